/**
 * verify:live's probe endpoint, deployed next to the service for one run and deleted with it.
 * Twilio Voice, Studio and the conference status callbacks call it; it writes what it received
 * into a Sync Document (`vfy_<run>_<probe>_<step>_<time>_<random>`, TTL one hour) so the command
 * can read it back, and answers with the TwiML the probe's `step` asks for.
 *
 * Every request must carry `key` = the run's VERIFY_KEY Variable (a random secret), so the
 * endpoint does nothing for anyone else while it exists. Plain JavaScript: deployed as it is.
 */
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

function xml(text) {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

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

function twiml(body) {
  const response = new Twilio.Response();
  response.appendHeader('Content-Type', 'text/xml');
  response.setBody(`<?xml version="1.0" encoding="UTF-8"?><Response>${body}</Response>`);
  return response;
}

exports.handler = async function (context, event, callback) {
  const { request, key, ...params } = event;
  if (!context.VERIFY_KEY || key !== context.VERIFY_KEY) {
    const refused = new Twilio.Response();
    refused.setStatusCode(403);
    refused.setBody('forbidden');
    return callback(null, refused);
  }
  const step = String(params.step || '');
  const probe = /^[a-z0-9-]{1,32}$/.test(String(params.probe)) ? String(params.probe) : 'none';
  const run = /^[a-z0-9]{4,16}$/.test(String(params.run)) ? String(params.run) : 'none';

  if (step === 'event') {
    // F4/F5: the event object this runtime built, as the function sees it.
    const reply = new Twilio.Response();
    reply.appendHeader('Content-Type', 'application/json');
    const own = { ...event };
    delete own.key;
    const requestValue = own.request;
    delete own.request;
    reply.setBody({
      text: JSON.stringify(own),
      keys: Object.keys(event),
      requestType: typeof requestValue,
      requestKeys: requestValue && typeof requestValue === 'object' ? Object.keys(requestValue) : [],
    });
    return callback(null, reply);
  }

  if (RECORDED_STEPS.has(step)) await record(context, run, probe, step, { at: Date.now(), step, params });

  const base = `${publicBase(context)}/verify/probe`;
  const url = (extra) => xml(`${base}?${new URLSearchParams({ key: context.VERIFY_KEY, run, probe, ...extra })}`);
  const waitUrl = (name, refused) =>
    refused ? `${url({ step: 'wait-refused', room: name })}${xml(`#${WAIT_RETRY_OVERRIDES}`)}` : url({ step: 'wait' });
  const room = (name, timeLimit, refused) =>
    `<Dial action="${url({ step: 'dial-action', room: name })}" method="POST"${timeLimit ? ` timeLimit="${Number(timeLimit)}"` : ''}>` +
    `<Conference startConferenceOnEnter="false" endConferenceOnExit="false" waitUrl="${waitUrl(name, refused)}" waitMethod="POST" ` +
    `statusCallback="${url({ step: 'conf', room: name })}" statusCallbackMethod="POST" statusCallbackEvent="start end join leave">${xml(name)}</Conference></Dial>`;

  switch (step) {
    case 'room':
      return callback(null, twiml(room(String(params.room), params.timeLimit, params.waitRefused === '1')));
    case 'wait-refused': {
      const refused = new Twilio.Response();
      refused.setStatusCode(429);
      refused.appendHeader('Content-Type', 'application/json');
      refused.appendHeader('Retry-After', '1');
      refused.setBody({ error: { code: 'CONCURRENCY_LIMIT', message: 'probe: this waitUrl is refused on purpose' } });
      return callback(null, refused);
    }
    case 'moved':
      return callback(
        null,
        twiml(params.then === 'room' ? room(String(params.room)) : '<Pause length="30"/><Hangup/>'),
      );
    case 'wait':
      return callback(null, twiml('<Pause length="10"/>'));
    case 'answer':
      return callback(null, twiml('<Pause length="600"/>'));
    case 'dial-action':
    case 'fallback':
      return callback(null, twiml('<Hangup/>'));
    case 'slow': {
      await new Promise((resolve) => setTimeout(resolve, SLOW_MS));
      const ok = new Twilio.Response();
      ok.appendHeader('Content-Type', 'application/json');
      ok.setBody({ ok: true });
      return callback(null, ok);
    }
    case 'fail500': {
      const failed = new Twilio.Response();
      failed.setStatusCode(500);
      failed.setBody('probe: this URL fails on purpose');
      return callback(null, failed);
    }
    default: {
      const ok = new Twilio.Response();
      ok.appendHeader('Content-Type', 'application/json');
      ok.setBody({ ok: true });
      return callback(null, ok);
    }
  }
};
