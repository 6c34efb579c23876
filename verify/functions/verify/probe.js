/**
 * verify:live's probe endpoint, deployed next to the service for one run and deleted with it.
 * Twilio Voice, Studio and the conference status callbacks call it; it writes what it received
 * into a Sync Document (`vfy_<run>_<probe>_<step>_<time>_<random>`, TTL one hour) so the command
 * can read it back, and answers with the TwiML the probe's `step` asks for.
 *
 * Every request must carry `key` = the run's VERIFY_KEY Variable (a random secret), so the
 * endpoint does nothing for anyone else while it exists. Plain JavaScript: deployed as it is. Its
 * TwiML comes from the helper library the Functions runtime provides as `Twilio.twiml`.
 */
const { setTimeout: sleep } = require('timers/promises');

const RECORDED_STEPS = new Set([
  'room',
  'conf',
  'dial-action',
  'moved',
  'fail500',
  'fallback',
  'transition',
  'wait-refused',
]);
/** The `slow` step answers this late, so the Studio execution waiting on it stays active (Studio allows 10 s). */
const SLOW_MS = 6000;
/** V18: the waitUrl of a room asked for with waitRefused=1 always answers 429; its fragment asks for 2 retries. */
const WAIT_RETRY_OVERRIDES = 'rc=2&rp=4xx';

function publicBase(context) {
  const domain = String(context.DOMAIN_NAME || '');
  return /^(localhost|127\.|\[::1\])/.test(domain) ? `http://${domain}` : `https://${domain}`;
}

function syncBase(context) {
  const local = context.TWILIO_API_BASE_URL;
  return local ? `${String(local).replace(/\/+$/, '')}/sync` : 'https://sync.twilio.com';
}

async function record(context, run, probe, step, data) {
  const name = `vfy_${run}_${probe}_${step}_${Date.now()}_${Math.random().toString(16).slice(2, 8)}`;
  const body = new URLSearchParams({ UniqueName: name, Data: JSON.stringify(data), Ttl: '3600' });
  const auth = Buffer.from(`${context.ACCOUNT_SID}:${context.AUTH_TOKEN}`).toString('base64');
  try {
    const response = await fetch(
      `${syncBase(context)}/v1/Services/${context.SYNC_SERVICE_SID || 'default'}/Documents`,
      {
        method: 'POST',
        headers: { Authorization: `Basic ${auth}`, 'Content-Type': 'application/x-www-form-urlencoded' },
        body,
        signal: AbortSignal.timeout(4000),
      },
    );
    await response.arrayBuffer();
  } catch (error) {
    console.error(`verify probe: could not record ${probe}/${step}: ${error.message}`);
  }
}

/** TwiML built with the helper library the runtime provides (`Twilio.twiml`), sent as text/xml. */
function voiceReply(build) {
  const twiml = new Twilio.twiml.VoiceResponse();
  build(twiml);
  const response = new Twilio.Response();
  response.appendHeader('Content-Type', 'text/xml');
  response.setBody(twiml.toString());
  return response;
}

function jsonReply(status, body, headers = {}) {
  const response = new Twilio.Response();
  response.setStatusCode(status);
  response.appendHeader('Content-Type', 'application/json');
  for (const [name, value] of Object.entries(headers)) response.appendHeader(name, value);
  response.setBody(body);
  return response;
}

function textReply(status, text) {
  const response = new Twilio.Response();
  response.setStatusCode(status);
  response.setBody(text);
  return response;
}

/** F4/F5: the event object this runtime built, as the function sees it. */
function eventReply(event) {
  const own = { ...event };
  delete own.key;
  const requestValue = own.request;
  delete own.request;
  return jsonReply(200, {
    text: JSON.stringify(own),
    keys: Object.keys(event),
    requestType: typeof requestValue,
    requestKeys: requestValue && typeof requestValue === 'object' ? Object.keys(requestValue) : [],
  });
}

/** Puts the caller into conference `name` on hold, every callback pointing back at this endpoint. */
function joinRoom(twiml, probeUrl, name, timeLimit, waitRefused) {
  const waitUrl = waitRefused
    ? `${probeUrl({ step: 'wait-refused', room: name })}#${WAIT_RETRY_OVERRIDES}`
    : probeUrl({ step: 'wait' });
  const dial = twiml.dial({
    action: probeUrl({ step: 'dial-action', room: name }),
    method: 'POST',
    ...(timeLimit ? { timeLimit: Number(timeLimit) } : {}),
  });
  dial.conference(
    {
      startConferenceOnEnter: false,
      endConferenceOnExit: false,
      waitUrl,
      waitMethod: 'POST',
      statusCallback: probeUrl({ step: 'conf', room: name }),
      statusCallbackMethod: 'POST',
      statusCallbackEvent: 'start end join leave',
    },
    name,
  );
}

const hangUp = () => voiceReply((twiml) => twiml.hangup());

/** What each `step` answers; a step not named here answers `{ok: true}`. */
const STEP_REPLIES = {
  room: ({ params, probeUrl }) =>
    voiceReply((twiml) => joinRoom(twiml, probeUrl, String(params.room), params.timeLimit, params.waitRefused === '1')),
  'wait-refused': () =>
    jsonReply(
      429,
      { error: { code: 'CONCURRENCY_LIMIT', message: 'probe: this waitUrl is refused on purpose' } },
      { 'Retry-After': '1' },
    ),
  moved: ({ params, probeUrl }) =>
    voiceReply((twiml) => {
      if (params.then === 'room') return joinRoom(twiml, probeUrl, String(params.room));
      twiml.pause({ length: 30 });
      twiml.hangup();
    }),
  wait: () => voiceReply((twiml) => twiml.pause({ length: 10 })),
  answer: () => voiceReply((twiml) => twiml.pause({ length: 600 })),
  'dial-action': hangUp,
  fallback: hangUp,
  slow: async () => {
    await sleep(SLOW_MS);
    return jsonReply(200, { ok: true });
  },
  fail500: () => textReply(500, 'probe: this URL fails on purpose'),
};

exports.handler = async function (context, event, callback) {
  const { request: _request, key, ...params } = event;
  if (!context.VERIFY_KEY || key !== context.VERIFY_KEY) return callback(null, textReply(403, 'forbidden'));
  const step = String(params.step || '');
  if (step === 'event') return callback(null, eventReply(event));

  const probe = /^[a-z0-9-]{1,32}$/.test(String(params.probe)) ? String(params.probe) : 'none';
  const run = /^[a-z0-9]{4,16}$/.test(String(params.run)) ? String(params.run) : 'none';
  if (RECORDED_STEPS.has(step)) await record(context, run, probe, step, { at: Date.now(), step, params });

  const base = `${publicBase(context)}/verify/probe`;
  const probeUrl = (extra) => `${base}?${new URLSearchParams({ key: context.VERIFY_KEY, run, probe, ...extra })}`;
  const reply = Object.hasOwn(STEP_REPLIES, step) ? STEP_REPLIES[step] : () => jsonReply(200, { ok: true });
  return callback(null, await reply({ params, probeUrl }));
};
