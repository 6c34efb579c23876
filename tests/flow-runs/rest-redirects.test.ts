/**
 * Calls known to the emulator from their start, and REST redirects at any moment: the runner
 * registers the call (POST /_emulator/calls) and follows the numbered releases
 * (GET /_emulator/calls/{sid}/released?after=S). The emulator in this checkout predates both
 * routes, so a small fake of them plays the emulator here, per the control API contract.
 */
import type { FlowDefinition } from '../../studio/flow-model';
import { newSid } from '../../emulator/sids';
import { runFlow } from '../../studio/runner';
import { json, startFakeService, twiml, type FakeRequest, type FakeReply, type FakeService } from './fake-service';
import { redirectState, sayState, smallFlow } from './support';

const ACCOUNT = `AC${'0'.repeat(32)}`;
const flowSid = newSid('FW');
const studio = (query: string) =>
  `https://webhooks.twilio.com/v1/Accounts/${ACCOUNT}/Flows/${flowSid}?FlowEvent=return&amp;${query}`;

/** A release the fake emulator hands out `at` ms after the call was registered. */
interface ScriptedRelease {
  at: number;
  body: Record<string, unknown>;
}

let voice: FakeService;
let emulator: FakeService;
const scripts = new Map<string, ScriptedRelease[]>();
const registeredAt = new Map<string, number>();
/** Calls whose next poll with after=1 gets release #1 again (a repeated answer must not be followed twice). */
const repeatOnce = new Set<string>();

function releasedRoute(callSid: string) {
  return (request: FakeRequest): FakeReply => {
    const after = Number(request.query.get('after') ?? '-1');
    const timeoutMs = Number(request.query.get('timeoutMs') ?? '10000');
    const script = scripts.get(callSid) ?? [];
    if (after === 1 && repeatOnce.delete(callSid)) return json({ released: true, ...script[0]!.body });
    const next = script.find((release) => (release.body.seq as number) > after);
    const elapsed = Date.now() - (registeredAt.get(callSid) ?? Date.now());
    if (!next || next.at - elapsed > timeoutMs)
      return { ...json({ released: false }), delayMs: Math.min(timeoutMs, 400) };
    return { ...json({ released: true, ...next.body }), delayMs: Math.max(0, next.at - elapsed) };
  };
}

const calls = { fetching: newSid('CA'), saying: newSid('CA'), inRoom: newSid('CA') };

beforeAll(async () => {
  voice = await startFakeService({
    '/slow-hold': () => ({ ...twiml('<Say>Never heard</Say>'), delayMs: 3000 }),
    '/say-hold': () => twiml(`<Say>${'please hold '.repeat(20)}</Say><Redirect>${voice.url}/slow-hold</Redirect>`),
    '/moved': () => twiml(`<Say>Moved</Say><Redirect>${studio('status=MOVED')}</Redirect>`),
    '/room-hold': () =>
      twiml(
        `<Dial action="${voice.url}/after"><Conference startConferenceOnEnter="false" waitUrl="${voice.url}/wait">hold_JB1</Conference></Dial>`,
      ),
    '/wait': () => twiml(`<Pause length="1"/><Redirect>${voice.url}/wait</Redirect>`),
    '/after': (r) => twiml(`<Redirect>${studio(`status=${r.form.get('DialCallStatus')}`)}</Redirect>`),
  });
  const routes: Record<string, (request: FakeRequest) => FakeReply> = {
    '/_emulator/calls': (r) => {
      const body = JSON.parse(r.body) as { callSid: string };
      if (registeredAt.has(body.callSid)) return json({ error: 'exists' }, 409);
      registeredAt.set(body.callSid, Date.now());
      return json({ callSid: body.callSid, status: 'in-progress' }, 201);
    },
    '/_emulator/conferences/join': (r) =>
      json({ conferenceSid: `CF${'1'.repeat(32)}`, callSid: JSON.parse(r.body).callSid, conferenceStatus: 'init' }),
  };
  for (const sid of Object.values(calls)) {
    routes[`/_emulator/calls/${sid}/released`] = releasedRoute(sid);
    routes[`/_emulator/calls/${sid}/hangup`] = () => json({ callSid: sid, status: 'completed' });
  }
  emulator = await startFakeService(routes);

  scripts.set(calls.fetching, [
    {
      at: 500,
      body: { seq: 1, reason: 'call-redirected', conferenceSid: null, url: `${voice.url}/moved`, method: 'POST' },
    },
  ]);
  repeatOnce.add(calls.fetching);
  scripts.set(calls.saying, [
    {
      at: 700,
      body: {
        seq: 1,
        reason: 'call-redirected',
        conferenceSid: null,
        twiml: `<Response><Redirect>${studio('status=INLINE')}</Redirect></Response>`,
      },
    },
  ]);
  scripts.set(calls.inRoom, [
    { at: 1500, body: { seq: 1, reason: 'conference-ended', conferenceSid: `CF${'1'.repeat(32)}` } },
    {
      at: 2500,
      body: { seq: 2, reason: 'call-redirected', conferenceSid: null, url: `${voice.url}/moved`, method: 'POST' },
    },
  ]);
});

afterAll(async () => {
  await voice?.close();
  await emulator?.close();
});

const holdFlow = (url: string): FlowDefinition =>
  smallFlow('rest redirects', ['incomingCall'], 'hold', [
    redirectState('hold', { url, method: 'POST', timeout: '30' }, { return: 'said' }),
    sayState('said', 'Back with {{widgets.hold.status}}', 'again'),
    {
      name: 'again',
      type: 'split-based-on',
      transitions: [
        { event: 'noMatch' },
        {
          event: 'match',
          next: 'hold2',
          conditions: [
            { friendly_name: 'room', arguments: ['{{widgets.hold.status}}'], type: 'equal_to', value: 'completed' },
          ],
        },
      ],
      properties: { input: '{{widgets.hold.status}}' },
    },
    redirectState(
      'hold2',
      { url: `${url.replace(/\/[^/]*$/, '')}/wait`, method: 'POST', timeout: '30' },
      { return: 'said2' },
    ),
    sayState('said2', 'Then {{widgets.hold2.status}}'),
  ]);

const run = (callSid: string, path: string) =>
  runFlow({
    definition: holdFlow(`${voice.url}${path}`),
    baseUrl: voice.url,
    emulatorUrl: emulator.url,
    trigger: { kind: 'call', callSid },
    flowSid,
    timeScale: 0.1,
    maxRunMs: 15_000,
  });

it('registers the call with the emulator from its start, and a REST redirect while /hold is being fetched pre-empts it, once', async () => {
  const result = await run(calls.fetching, '/slow-hold');
  expect(result.widgets.hold).toEqual({ status: 'MOVED' });
  expect(result.heard.map((a) => a.content)).toEqual(['Moved', 'Back with MOVED']);
  expect(result.end).toEqual({ kind: 'completed', widget: 'again', event: 'noMatch' });
  expect(result.durationMs).toBeLessThan(2500); // /slow-hold's answer (3 s) was not waited for
  expect(voice.requests.filter((r) => r.path === '/moved' && r.form.get('CallSid') === calls.fetching)).toHaveLength(1);
  expect(result.timeline.some((e) => /redirected through the REST API \(release #1\)/.test(e.text))).toBe(true);
  const registered = emulator.requests.find((r) => r.path === '/_emulator/calls' && r.body.includes(calls.fetching))!;
  expect(JSON.parse(registered.body)).toEqual({ callSid: calls.fetching, from: '+15005550006', to: '+15005550001' });
  expect(emulator.requests.some((r) => r.path === `/_emulator/calls/${calls.fetching}/hangup`)).toBe(true);
}, 15_000);

it('a REST redirect with inline TwiML cuts short what the caller hears before the Dial', async () => {
  const result = await run(calls.saying, '/say-hold');
  expect(result.widgets.hold).toEqual({ status: 'INLINE' });
  expect(result.heard[0]).toMatchObject({ kind: 'say', cutShortBy: 'redirected' });
  expect(result.heard[0]!.heardSeconds).toBeLessThan(result.heard[0]!.fullSeconds);
  expect(voice.requests.some((r) => r.path === '/slow-hold' && r.form.get('CallSid') === calls.saying)).toBe(false);
}, 15_000);

it("in a room the numbered feed hands the room its release; a later redirect pre-empts the next widget's TwiML", async () => {
  const result = await run(calls.inRoom, '/room-hold');
  expect(result.rooms).toEqual([
    expect.objectContaining({ friendlyName: 'hold_JB1', leftBecause: 'conference-ended' }),
  ]);
  expect(result.widgets.hold).toEqual({ status: 'completed' });
  // hold2 loops /wait until release #2 (a REST redirect) takes the call to /moved.
  expect(result.widgets.hold2).toEqual({ status: 'MOVED' });
  expect(result.path).toEqual(['Trigger', 'hold', 'said', 'again', 'hold2', 'said2']);
  const polls = emulator.requests
    .filter((r) => r.path === `/_emulator/calls/${calls.inRoom}/released`)
    .map((r) => Number(r.query.get('after')));
  expect(polls[0]).toBe(0);
  expect(polls).toContain(1);
  expect(voice.requests.filter((r) => r.path === '/moved' && r.form.get('CallSid') === calls.inRoom)).toHaveLength(1);
}, 15_000);
