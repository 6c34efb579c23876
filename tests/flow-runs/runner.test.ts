/**
 * The flow runner's Studio and Twilio Voice semantics, against a small fake service (and the
 * real emulator where a caller joins a room): Liquid context, Studio's HTTP rules, split
 * conditions, TwiML, Studio's limits, hang-up, timeouts, and many runs at once.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BUILT_IN_PROFILES, profileFromJson, type TwilioBehaviour } from '../../emulator/twilio-behaviour';
import type { FlowDefinition } from '../../studio/flow-model';
import { newSid } from '../../emulator/sids';
import { conditionHolds, parseTwiml, runFlow, type FlowRun, type RunFlowOptions } from '../../studio/runner';
import { loadStartEmulator, type EmulatorHandle } from '../../dev/emulator-loader';
import { encodeWavPcm16Mono } from '../../dev/wav';
import { json, startFakeService, twiml, type FakeService } from './fake-service';
import { functionState, openRooms, redirectState, sayState, sendState, smallFlow, type StateSpec } from './support';

const ACCOUNT = `AC${'0'.repeat(32)}`;
const { documented, hopeful } = BUILT_IN_PROFILES;
const APPLICATION_ERROR = 'An application error has occurred.';

/** A definition whose Trigger goes to `first` on calls and messages. */
const flowOf = (first: string, states: StateSpec[]): FlowDefinition =>
  smallFlow('runner test', ['incomingCall', 'incomingMessage'], first, states);

const fn = (
  url: string,
  parameters: Array<{ key: string; value: string }> = [],
  next: Partial<Record<'success' | 'fail', string>> = {},
): StateSpec => functionState('fn', url, parameters, next);

let fake: FakeService;
const music = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'runner-assets-')), 'music.wav');

beforeAll(async () => {
  fs.writeFileSync(music, encodeWavPcm16Mono(new Int16Array(8000 * 1.5), 8000)); // 1.5 s
  fake = await startFakeService({
    '/echo': (r) => json({ greeting: 'hi', n: 41, echo: Object.fromEntries(r.form) }),
    '/array': () => json([{ status: 'COMPLETED' }]),
    '/text': () => ({ type: 'text/plain', body: '{"status":"COMPLETED"}' }),
    '/not-found': () => json({ error: { code: 'JOB_NOT_FOUND' } }, 404),
    '/broken': () => ({ status: 500, body: 'oops' }),
    '/huge': () => json({ padding: 'x'.repeat(70 * 1024) }),
    '/slow': () => ({ ...json({ status: 'COMPLETED' }), delayMs: 10_500 }),
  });
});

afterAll(async () => {
  await fake?.close();
  fs.rmSync(path.dirname(music), { recursive: true, force: true });
});

const run = (definition: FlowDefinition, options: Partial<RunFlowOptions> = {}): Promise<FlowRun> =>
  runFlow({ definition, baseUrl: fake.url, trigger: { kind: 'call' }, timeScale: 0.01, maxRunMs: 20_000, ...options });

describe('Liquid context and widget outputs', () => {
  it('renders trigger, flow and widgets the way Studio names them', async () => {
    const definition = flowOf('fn', [
      fn(
        'https://__SERVICE_DOMAIN__/echo',
        [
          { key: 'sid', value: '{{flow.sid}}' },
          { key: 'flowSid', value: '{{flow.flow_sid}}' },
          { key: 'callSid', value: '{{trigger.call.CallSid}}' },
          { key: 'from', value: '{{contact.channel.address}}' },
        ],
        { success: 'remember' },
      ),
      {
        name: 'remember',
        type: 'set-variables',
        transitions: [{ event: 'next' }],
        properties: {
          variables: [
            { key: 'who', value: '{{widgets.fn.parsed.greeting}}' },
            { key: 'n', value: '{{widgets.fn.parsed.n | plus: 1}}' },
            {
              key: 'count',
              value: '{% if flow.variables.count %}{{flow.variables.count | plus: 1}}{% else %}1{% endif %}',
            },
          ],
        },
      },
    ]);
    const result = await run(definition);
    const echo = (result.widgets.fn!.parsed as { echo: Record<string, string> }).echo;
    expect(echo).toEqual({
      sid: result.executionSid,
      flowSid: result.flowSid,
      callSid: result.callSid,
      from: '+15005550006',
    });
    expect(result.executionSid).toMatch(/^FN[0-9a-f]{32}$/);
    expect(result.flowSid).toMatch(/^FW[0-9a-f]{32}$/);
    expect(result.variables).toEqual({ who: 'hi', n: '42', count: '1' });
    expect(result.widgets.fn).toMatchObject({
      status_code: 200,
      content_type: 'application/json',
      body: expect.stringContaining('"greeting":"hi"'),
    });
    expect(result.end).toEqual({ kind: 'completed', widget: 'remember', event: 'next' });
  });

  it('finds a Run Function by its function SID placeholder when its URL is not filled in', async () => {
    const definition = flowOf('fn', [
      { ...fn('__URL__'), properties: { url: '__URL__', function_sid: '__FUNCTION_SID_ECHO__' } },
    ]);
    const result = await run(definition, { functionPaths: ['/array', '/echo'] });
    expect(result.end).toMatchObject({ event: 'success' });
    expect(result.widgets.fn).toMatchObject({ parsed: { greeting: 'hi' } });
  });
});

describe("Studio's HTTP rules", () => {
  const outcome = async (url: string, type = 'run-function') => {
    const state: StateSpec =
      type === 'run-function'
        ? fn(url)
        : {
            name: 'fn',
            type,
            transitions: [{ event: 'success' }, { event: 'failed' }],
            properties: { url, method: 'POST', content_type: 'application/x-www-form-urlencoded;charset=utf-8' },
          };
    const result = await run(flowOf('fn', [state]));
    return { event: (result.end as { event?: string }).event, outputs: result.widgets.fn };
  };

  it('parses only an application/json object; 4xx, 5xx, over 64 KB or over 10 s fail', async () => {
    const [array, text, notFound, broken, huge, slow, request] = await Promise.all([
      outcome('/array'),
      outcome('/text'),
      outcome('/not-found'),
      outcome('/broken'),
      outcome('/huge'),
      outcome('/slow'),
      outcome('/broken', 'make-http-request'),
    ]);
    expect(array).toEqual({
      event: 'success',
      outputs: { status_code: 200, content_type: 'application/json', body: '[{"status":"COMPLETED"}]' },
    });
    expect(text).toEqual({
      event: 'success',
      outputs: { status_code: 200, content_type: 'text/plain', body: '{"status":"COMPLETED"}' },
    });
    expect(notFound).toEqual({
      event: 'fail',
      outputs: expect.objectContaining({ status_code: 404, parsed: { error: { code: 'JOB_NOT_FOUND' } } }),
    });
    expect(broken).toEqual({
      event: 'fail',
      outputs: { status_code: 500, content_type: 'application/json', body: 'oops' },
    });
    expect(huge.event).toBe('fail');
    expect(slow.event).toBe('fail');
    expect(request.event).toBe('failed');
  }, 20_000);
});

describe('split conditions', () => {
  it.each([
    ['equal_to', ' Completed ', 'COMPLETED', true],
    ['equal_to', 'PENDING', 'COMPLETED', false],
    ['not_equal_to', 'PENDING', 'COMPLETED', true],
    ['matches_any_of', 'yes', 'y, Yes ,ok', true],
    ['does_not_match_any_of', 'no', 'y,yes', true],
    ['is_blank', '  ', '', true],
    ['is_not_blank', 'x', '', true],
    ['contains', 'order ORD-1 ships', 'ord-1', true],
    ['does_not_contain', 'abc', 'x', true],
    ['starts_with', '__FLEX_WORKFLOW_SID__', 'WW', false],
    ['starts_with', 'WW0123', 'ww', true],
    ['does_not_start_with', 'abc', 'b', true],
    ['greater_than', '3', '2', true],
    ['greater_than', '10', '9', true], // numbers, not strings
    ['greater_than', '', '2', false],
    ['less_than', '1.5', '2', true],
    ['regex', 'JOB-123', '^job-\\d+$', true],
    ['is_before_time', '08:30', '09:00', true],
    ['is_after_time', '5:15 PM', '17:00', true],
    ['is_before_date', '2026-01-01', '2026-06-30', true],
    ['is_after_date', '2026-01-01', '2026-06-30', false],
  ])('%s: %j vs %j -> %s', (type, subject, value, expected) => {
    expect(conditionHolds(type, subject, value)).toBe(expected);
  });

  it('refuses a condition type Studio does not have', () => {
    expect(() => conditionHolds('sounds_like', 'a', 'b')).toThrow(/unknown split condition/);
  });
});

describe('TwiML parsing', () => {
  it('reads verbs, nouns, attributes and entities', () => {
    const root = parseTwiml(
      '<?xml version="1.0"?><Response><Dial action="/hold?a=1&amp;b=2" timeLimit="150"><Conference waitUrl=\'/w\'>hold_JB1</Conference></Dial><Pause/><!-- x --><Say>Fish &amp; chips</Say></Response>',
    );
    expect(root.children.map((c) => c.name)).toEqual(['Dial', 'Pause', 'Say']);
    expect(root.children[0]!.attributes).toEqual({ action: '/hold?a=1&b=2', timeLimit: '150' });
    expect(root.children[0]!.children[0]).toMatchObject({
      name: 'Conference',
      attributes: { waitUrl: '/w' },
      text: 'hold_JB1',
    });
    expect(root.children[2]!.text).toBe('Fish & chips');
  });

  it.each(['<Response><Say>x</Response>', '<Response>', 'hello', '<Response></Response><Response></Response>'])(
    'rejects %j',
    (xml) => {
      expect(() => parseTwiml(xml)).toThrow();
    },
  );
});

describe("Studio's limits", () => {
  it('ends the execution when a widget is about to run for the 10th time', async () => {
    const definition = flowOf('count', [
      {
        name: 'count',
        type: 'set-variables',
        transitions: [{ event: 'next', next: 'again' }],
        properties: { variables: [{ key: 'n', value: '{{flow.variables.n | plus: 1}}' }] },
      },
      {
        name: 'again',
        type: 'split-based-on',
        transitions: [{ event: 'noMatch', next: 'count' }],
        properties: { input: '{{flow.variables.n}}' },
      },
    ]);
    const result = await run(definition);
    expect(result.end).toEqual({ kind: 'widget-limit', widget: 'count', runs: 10 });
    expect(result.variables.n).toBe('9');
  });

  it('ends the execution after 1000 steps', async () => {
    const names = Array.from({ length: 120 }, (_, i) => `s${i}`);
    const definition = flowOf(
      's0',
      names.map((name, i) => ({
        name,
        type: 'set-variables',
        transitions: [{ event: 'next', next: names[(i + 1) % names.length] }],
        properties: { variables: [] },
      })),
    );
    const result = await run(definition);
    expect(result.end).toMatchObject({ kind: 'step-limit', steps: 1000 });
  });
});

describe('TwiML Redirect widget', () => {
  const flowSid = newSid('FW');
  const studio = (query: string) =>
    `https://webhooks.twilio.com/v1/Accounts/${ACCOUNT}/Flows/${flowSid}?FlowEvent=return&amp;${query}`;
  let voice: FakeService;

  beforeAll(async () => {
    voice = await startFakeService({
      '/say-then-return': () =>
        twiml(`<Say>One moment</Say><Redirect method="POST">${studio('status=DONE&amp;n=3')}</Redirect>`),
      '/chain': () => twiml(`<Redirect>${voice.url}/say-then-return</Redirect>`),
      '/long-pause': () => twiml('<Pause length="30"/>'),
      '/hangup': () => twiml('<Say>Bye</Say><Hangup/>'),
      '/other-flow': () =>
        twiml(
          `<Redirect>https://webhooks.twilio.com/v1/Accounts/${ACCOUNT}/Flows/FW${'1'.repeat(32)}?FlowEvent=return</Redirect>`,
        ),
      '/broken': () => ({ status: 500, body: 'oops' }),
      '/not-twiml': () => ({ type: 'text/plain', body: 'hello' }),
      '/fallback': () => twiml(`<Say>Sorry for the wait</Say><Redirect>${studio('status=FALLBACK')}</Redirect>`),
      '/pause-then-return': () => twiml(`<Pause length="2"/><Redirect>${studio('status=LATE')}</Redirect>`),
    });
  });
  afterAll(() => voice?.close());

  const redirect = (
    url: string,
    timeout = '60',
    next: Partial<Record<'timeout' | 'fail', string>> = {},
  ): FlowDefinition =>
    flowOf('hold', [
      redirectState('hold', { url, method: 'POST', timeout }, { return: 'after', ...next }),
      sayState('after', 'Back with {{widgets.hold.status}} and {{widgets.hold.n}}'),
      sayState('retry', 'Trying again'),
      sayState('sorry', 'Sorry'),
      {
        name: 'count',
        type: 'set-variables',
        transitions: [{ event: 'next', next: 'sorry' }],
        properties: { variables: [{ key: 'late', value: 'yes' }] },
      },
    ]);

  it('follows the TwiML as Twilio Voice would and returns with the extra query keys', async () => {
    const result = await run(redirect(`${voice.url}/chain`), { baseUrl: voice.url, flowSid });
    expect(result.widgets.hold).toEqual({ status: 'DONE', n: '3' });
    expect(result.heard.map((a) => a.content)).toEqual(['One moment', 'Back with DONE and 3']);
    expect(result.end).toEqual({ kind: 'completed', widget: 'after', event: 'audioComplete' });
    const voiceRequest = voice.requests.find((r) => r.path === '/say-then-return')!;
    expect(voiceRequest.form.get('CallSid')).toBe(result.callSid);
    expect(voiceRequest.form.get('CallStatus')).toBe('in-progress');
  });

  it("S5: a failed first fetch is Voice's: the application error and the call ends, never `fail` (every profile)", async () => {
    const failing = (url: string, behaviour: TwilioBehaviour = documented) =>
      run(redirect(url, '60', { fail: 'retry' }), { baseUrl: voice.url, flowSid, behaviour });
    const [broken, hopefulBroken, notTwiml] = await Promise.all([
      failing(`${voice.url}/broken`),
      failing(`${voice.url}/broken`, hopeful),
      failing(`${voice.url}/not-twiml`),
    ]);
    for (const result of [broken, hopefulBroken]) {
      expect(result.end).toEqual({
        kind: 'call-ended',
        widget: 'hold',
        reason: expect.stringMatching(/^application error: POST \S*\/broken \(HTTP 500\)/),
      });
      expect(result.heard.map((a) => a.content)).toEqual([APPLICATION_ERROR]);
      expect(result.path).toEqual(['Trigger', 'hold']);
    }
    expect(notTwiml.end).toMatchObject({
      kind: 'call-ended',
      reason: expect.stringMatching(/not-twiml \(not valid TwiML/),
    });
    expect(notTwiml.path).not.toContain('retry');
  });

  it("S5: with the number's Fallback URL, Voice requests it (ErrorCode, ErrorUrl) and follows its TwiML", async () => {
    const before = voice.requests.length;
    const [fallback, fallbackBroken] = await Promise.all([
      run(redirect(`${voice.url}/broken`, '60', { fail: 'retry' }), {
        baseUrl: voice.url,
        flowSid,
        fallbackUrl: `${voice.url}/fallback`,
      }),
      run(redirect(`${voice.url}/broken`, '60', { fail: 'retry' }), {
        baseUrl: voice.url,
        flowSid,
        fallbackUrl: '/not-twiml',
      }),
    ]);
    expect(fallback.end).toEqual({ kind: 'completed', widget: 'after', event: 'audioComplete' });
    expect(fallback.widgets.hold).toEqual({ status: 'FALLBACK' });
    expect(fallback.heard.map((a) => a.content)).toEqual(['Sorry for the wait', 'Back with FALLBACK and ']);
    expect(fallback.path).not.toContain('retry');
    const asked = voice.requests.slice(before).find((r) => r.path === '/fallback')!;
    expect(asked.form.get('CallSid')).toBe(fallback.callSid);
    expect(asked.form.get('ErrorCode')).toBe('11200');
    expect(asked.form.get('ErrorUrl')).toBe(`${voice.url}/broken`);
    expect(fallbackBroken.end).toMatchObject({
      kind: 'call-ended',
      reason: expect.stringMatching(/broken \(HTTP 500\), then the Fallback URL POST \S*\/not-twiml/),
    });
    expect(fallbackBroken.heard.map((a) => a.content)).toEqual([APPLICATION_ERROR]);
  });

  it('S4: `timeout` when the call does not come back; hopeful: Studio takes the call back at once', async () => {
    const [slow, late] = await Promise.all([
      run(redirect(`${voice.url}/long-pause`, '1'), { baseUrl: voice.url, flowSid, timeScale: 1, behaviour: hopeful }),
      run(redirect(`${voice.url}/pause-then-return`, '1', { timeout: 'count' }), {
        baseUrl: voice.url,
        flowSid,
        timeScale: 1,
        behaviour: hopeful,
      }),
    ]);
    expect(slow.end).toEqual({ kind: 'completed', widget: 'hold', event: 'timeout' });
    expect(slow.heard[0]).toMatchObject({ kind: 'pause', cutShortBy: 'timeout' });
    expect(late.path).toEqual(['Trigger', 'hold', 'count', 'sorry']);
    const sorry = late.heard.find((a) => a.content === 'Sorry')!;
    expect(sorry.atMs).toBeGreaterThanOrEqual(950);
    expect(sorry.atMs).toBeLessThan(1800);
  });

  it('S4 documented: Studio moves on along `timeout` but the caller only hears the next Say once the call comes back', async () => {
    const [late, slow] = await Promise.all([
      run(redirect(`${voice.url}/pause-then-return`, '1', { timeout: 'count' }), {
        baseUrl: voice.url,
        flowSid,
        timeScale: 1,
      }),
      run(redirect(`${voice.url}/long-pause`, '1'), { baseUrl: voice.url, flowSid, timeScale: 1 }),
    ]);
    expect(late.behaviour.name).toBe('documented');
    // `count` (no caller needed) runs at the timeout; `sorry` waits for the call to come back at 2 s.
    expect(late.path).toEqual(['Trigger', 'hold', 'count', 'sorry']);
    expect(late.variables).toEqual({ late: 'yes' });
    expect(late.heard.map((a) => [a.kind, a.content])).toEqual([
      ['pause', 'silence'],
      ['say', 'Sorry'],
    ]);
    expect(late.heard[0]).toMatchObject({ heardSeconds: 2 });
    expect(late.heard[1]!.atMs).toBeGreaterThanOrEqual(1950);
    expect(late.widgets.hold).toBeUndefined(); // the return's keys come too late for the widget
    expect(late.end).toEqual({ kind: 'completed', widget: 'sorry', event: 'audioComplete' });
    expect(late.timeline.some((e) => /cannot take the call back/.test(e.text))).toBe(true);
    // Nothing after the timeout needs the caller: the execution ends with the call still outside Studio.
    expect(slow.end).toEqual({ kind: 'completed', widget: 'hold', event: 'timeout' });
    expect(slow.heard[0]).toMatchObject({ kind: 'pause', cutShortBy: 'run-ended' });
    expect(slow.timeline.some((e) => /execution ended with the call still in foreign TwiML/.test(e.text))).toBe(true);
    expect(slow.durationMs).toBeLessThan(3000);
  });

  it('ends the call on <Hangup> and when the TwiML hands it to another flow', async () => {
    const [hangup, other] = await Promise.all([
      run(redirect(`${voice.url}/hangup`), { baseUrl: voice.url, flowSid }),
      run(redirect(`${voice.url}/other-flow`), { baseUrl: voice.url, flowSid }),
    ]);
    expect(hangup.end).toEqual({ kind: 'call-ended', widget: 'hold', reason: '<Hangup>' });
    expect(other.end).toMatchObject({
      kind: 'call-ended',
      widget: 'hold',
      reason: expect.stringContaining(`FW${'1'.repeat(32)}`),
    });
  });
});

describe('the caller and the clock', () => {
  const talk = flowOf('talk', [sayState('talk', 'word '.repeat(50))]);

  it('a hang-up stops the call where it is; maxRunMs and an outside abort stop the run', async () => {
    const stop = new AbortController();
    setTimeout(() => stop.abort(new Error('test over')), 300);
    const [hungUp, tooLong, aborted] = await Promise.all([
      run(talk, { timeScale: 1, hangUpAfterMs: 300 }),
      run(talk, { timeScale: 1, maxRunMs: 300 }),
      run(talk, { timeScale: 1, signal: stop.signal }),
    ]);
    expect(hungUp.end).toEqual({ kind: 'caller-hung-up', widget: 'talk' });
    expect(hungUp.heard[0]).toMatchObject({ cutShortBy: 'hangup', fullSeconds: 20 });
    expect(hungUp.heard[0]!.heardSeconds).toBeLessThan(2);
    expect(tooLong.end).toEqual({ kind: 'run-timeout', widget: 'talk', afterMs: 300 });
    expect(aborted.end).toMatchObject({ kind: 'error', message: expect.stringContaining('test over') });
    expect(hungUp.durationMs).toBeLessThan(2000);
  });

  it('runs many executions at once without mixing them up, and leaves no timers behind', async () => {
    const definition = flowOf('fn', [
      fn('/echo', [{ key: 'mine', value: '{{trigger.message.Body}}' }], { success: 'keep' }),
      {
        name: 'keep',
        type: 'set-variables',
        transitions: [{ event: 'next', next: 'reply' }],
        properties: { variables: [{ key: 'mine', value: '{{widgets.fn.parsed.echo.mine}}' }] },
      },
      sendState('reply', 'you said {{flow.variables.mine}}'),
    ]);
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const timersBefore = timers();
    const bodies = Array.from({ length: 25 }, (_, i) => `message ${i}`);
    // Each run arms a 60 s run timer: a run that did not clear it would leave 25 behind.
    const results = await Promise.all(
      bodies.map((body, i) =>
        run(definition, { trigger: { kind: 'message', body, from: `+1500555${1000 + i}` }, maxRunMs: 60_000 }),
      ),
    );
    results.forEach((result, i) => {
      expect(result.messages).toEqual([
        expect.objectContaining({ body: `you said message ${i}`, to: `+1500555${1000 + i}`, from: '+15005550001' }),
      ]);
      expect(result.variables).toEqual({ mine: `message ${i}` });
    });
    expect(new Set(results.map((r) => r.executionSid)).size).toBe(25);
    expect(timers() - timersBefore).toBeLessThan(5); // room for the HTTP client's own keep-alive timer
  });
});

describe('a caller in a conference (with the emulator)', () => {
  let emulator: EmulatorHandle;
  let room: FakeService;
  const flowSid = newSid('FW');
  const back = (status: string) =>
    `<Redirect>https://webhooks.twilio.com/v1/Accounts/${ACCOUNT}/Flows/${flowSid}?FlowEvent=return&amp;status=${status}</Redirect>`;
  const dial = (name: string, timeLimit: number) =>
    twiml(
      `<Dial action="${room.url}/after" timeLimit="${timeLimit}"><Conference startConferenceOnEnter="false" endConferenceOnExit="true" waitUrl="${room.url}/wait" statusCallback="${room.url}/events" statusCallbackEvent="leave">${name}</Conference></Dial>`,
    );

  beforeAll(async () => {
    emulator = await loadStartEmulator()({ port: 0 });
    room = await startFakeService({
      '/hold-short': () => dial('room_limit', 2),
      '/hold-long': () => dial('room_timeout', 60),
      '/hold-stays': () => dial('room_stays', 2),
      '/hold-kept': () => dial('room_kept', 4),
      '/wait': () => twiml(`<Play>${room.url}/music.wav</Play><Redirect>${room.url}/wait</Redirect>`),
      '/after': (r) => twiml(back(r.form.get('DialCallStatus') ?? 'none')),
      '/events': () => ({ status: 204 }),
    });
  });
  afterAll(async () => {
    await room?.close();
    await emulator?.close();
  });

  const holdFlow = (url: string, timeout: string, onTimeout?: string) =>
    flowOf('hold', [
      redirectState('hold', { url, timeout }, { timeout: onTimeout }),
      sayState('sorry', 'Sorry, that took too long'),
    ]);
  const options = (behaviour: TwilioBehaviour = documented) => ({
    baseUrl: room.url,
    emulatorUrl: emulator.url,
    flowSid,
    timeScale: 1,
    assetDirs: [path.dirname(music)],
    behaviour,
  });

  it("V10 hopeful: loops the waitUrl with the music's real length, enforces the Dial timeLimit, then follows the Dial action", async () => {
    const result = await run(holdFlow(`${room.url}/hold-short`, '60'), options(hopeful));
    expect(result.end).toEqual({ kind: 'completed', widget: 'hold', event: 'return' });
    expect(result.widgets.hold).toEqual({ status: 'completed' });
    const music = result.heard.filter((a) => a.kind === 'play');
    expect(music.length).toBeGreaterThanOrEqual(1);
    expect(music[0]!.fullSeconds).toBeCloseTo(1.5, 1);
    expect(result.timeline.some((e) => /timeLimit of 2 s reached/.test(e.text))).toBe(true);
    expect(result.rooms).toEqual([
      expect.objectContaining({
        friendlyName: 'room_limit',
        leftBecause: 'participant-removed',
        timeLimitReached: true,
      }),
    ]);
    expect(result.rooms[0]!.leftAtMs! - result.rooms[0]!.joinedAtMs).toBeGreaterThanOrEqual(1900);
    expect(room.requests.filter((r) => r.path === '/events').map((r) => r.form.get('StatusCallbackEvent'))).toContain(
      'participant-leave',
    );
    expect(await openRooms(emulator.url, 'room_limit')).toEqual([]);
    expect(emulator.violations()).toEqual([]);
  }, 15_000);

  it('V10 documented: the Dial timeLimit does not take the caller out of the conference', async () => {
    const result = await run(holdFlow(`${room.url}/hold-stays`, '4'), options());
    expect(result.end).toEqual({ kind: 'completed', widget: 'hold', event: 'timeout' });
    const notes = result.timeline.filter((e) => /timeLimit of 2 s passed: under profile documented/.test(e.text));
    expect(notes).toHaveLength(1);
    expect(notes[0]!.atMs).toBeGreaterThanOrEqual(1900);
    expect(result.timeline.some((e) => /timeLimit of 2 s reached/.test(e.text))).toBe(false);
    expect(result.rooms).toEqual([expect.objectContaining({ friendlyName: 'room_stays', leftBecause: 'run-stopped' })]);
    expect(result.rooms[0]!.timeLimitReached).toBeUndefined();
    expect(result.rooms[0]!.leftAtMs! - result.rooms[0]!.joinedAtMs).toBeGreaterThanOrEqual(3900);
    expect(await openRooms(emulator.url, 'room_stays')).toEqual([]);
    expect(emulator.violations()).toEqual([]);
  }, 15_000);

  it('S4 documented (timeLimit on): after the timeout the caller stays in the room; the apology waits until the Dial action returns the call', async () => {
    const behaviour = profileFromJson(
      { name: 'timelimit-only', switches: { dialTimeLimitBoundsConference: true } },
      'test',
    );
    const result = await run(holdFlow(`${room.url}/hold-kept`, '1', 'sorry'), options(behaviour));
    expect(result.path).toEqual(['Trigger', 'hold', 'sorry']);
    expect(result.end).toEqual({ kind: 'completed', widget: 'sorry', event: 'audioComplete' });
    expect(result.rooms).toEqual([
      expect.objectContaining({
        friendlyName: 'room_kept',
        leftBecause: 'participant-removed',
        timeLimitReached: true,
      }),
    ]);
    const sorry = result.heard.find((a) => a.kind === 'say')!;
    expect(sorry.content).toBe('Sorry, that took too long');
    expect(sorry.atMs).toBeGreaterThanOrEqual(result.rooms[0]!.leftAtMs!);
    expect(sorry.atMs).toBeGreaterThanOrEqual(3900);
    expect(room.requests.filter((r) => r.path === '/wait').length).toBeGreaterThanOrEqual(2); // music went on after the timeout
    expect(await openRooms(emulator.url, 'room_kept')).toEqual([]);
  }, 15_000);

  it('S4 documented: with no way out of the room the caller never hears the apology (the caller hangs up)', async () => {
    const result = await run(holdFlow(`${room.url}/hold-long`, '1', 'sorry'), { ...options(), hangUpAfterMs: 3000 });
    expect(result.end).toEqual({ kind: 'caller-hung-up', widget: 'sorry' });
    expect(result.heard.filter((a) => a.kind === 'say')).toEqual([]);
    expect(result.rooms).toEqual([
      expect.objectContaining({ friendlyName: 'room_timeout', leftBecause: 'caller-hangup' }),
    ]);
    expect(await openRooms(emulator.url, 'room_timeout')).toEqual([]);
  }, 15_000);

  it("S4 hopeful: takes the call back from the room when the widget's timeout passes", async () => {
    const result = await run(holdFlow(`${room.url}/hold-long`, '2'), options(hopeful));
    expect(result.end).toEqual({ kind: 'completed', widget: 'hold', event: 'timeout' });
    expect(result.rooms).toEqual([
      expect.objectContaining({ friendlyName: 'room_timeout', leftBecause: 'widget-timeout' }),
    ]);
    expect(await openRooms(emulator.url, 'room_timeout')).toEqual([]);
    const waitTurns = room.requests.filter((r) => r.path === '/wait').length;
    await sleep(1600);
    expect(room.requests.filter((r) => r.path === '/wait').length).toBe(waitTurns);
    expect(emulator.violations()).toEqual([]);
  }, 15_000);
});
