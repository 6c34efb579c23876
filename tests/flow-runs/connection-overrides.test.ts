/**
 * Twilio Voice's webhook connection overrides as the flow runner plays them: a URL fragment
 * (`#rc=2&rp=4xx`) is never sent; a failed request whose failure matches `rp` is retried up to
 * `rc` times. Documented for the call's own TwiML, so played in every profile; for a conference's
 * waitUrl (and the Redirects of its TwiML) it is the profile's `waitUrlHonoursConnectionOverrides`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BUILT_IN_PROFILES, type TwilioBehaviour } from '../../emulator/twilio-behaviour';
import type { FlowDefinition } from '../../studio/flow-model';
import { failureKind, splitConnectionOverrides } from '../../studio/runner/connection-overrides';
import { newSid } from '../../emulator/sids';
import { runFlow } from '../../studio/runner';
import { loadStartEmulator, type EmulatorHandle } from '../../dev/emulator-loader';
import { encodeWavPcm16Mono } from '../../dev/wav';
import { startFakeService, twiml, type FakeRequest, type FakeService } from './fake-service';
import { openRooms, redirectState, smallFlow } from './support';

const ACCOUNT = `AC${'0'.repeat(32)}`;
const { documented, hopeful } = BUILT_IN_PROFILES;
const refused = {
  status: 429,
  type: 'application/json',
  body: '{"error":{"code":"CONCURRENCY_LIMIT","message":"busy"}}',
};

describe('splitConnectionOverrides', () => {
  it('reads rc, rp and the timeouts from the fragment and requests the URL without it', () => {
    const split = splitConnectionOverrides(
      'https://x.twil.io/hold/wait?jobId=JB1&turn=2#rc=3&rp=4xx,5xx,ct,rt&rt=2000&tt=9000',
    );
    expect(split.url).toBe('https://x.twil.io/hold/wait?jobId=JB1&turn=2');
    expect(split.problems).toEqual([]);
    expect(split.overrides).toEqual({
      retries: 3,
      retryOn: new Set(['4xx', '5xx', 'ct', 'rt']),
      readTimeoutMs: 2000,
      totalTimeMs: 9000,
    });
  });

  it('takes `all` as every kind, and the page defaults when rc or rp is left out', () => {
    expect(splitConnectionOverrides('/a#rc=1&rp=all').overrides?.retryOn).toEqual(new Set(['4xx', '5xx', 'ct', 'rt']));
    expect(splitConnectionOverrides('/a#rp=5xx').overrides).toMatchObject({ retries: 1 });
    expect(splitConnectionOverrides('/a#rc=2').overrides?.retryOn).toEqual(new Set(['ct']));
  });

  it('ignores values Twilio would refuse, and fragments that set no override', () => {
    const split = splitConnectionOverrides('/a#rc=9&rp=4xx,teapot&ct=5');
    expect(split.problems).toEqual([
      'rc=9 is not 0-5',
      'rp value "teapot" is not one of 4xx, 5xx, ct, rt, all (Twilio error 11243)',
      'ct=5 is not 100-10000 ms',
    ]);
    expect(split.overrides).toMatchObject({ retries: 1, retryOn: new Set(['4xx']) });
    expect(splitConnectionOverrides('/a#section')).toEqual({ url: '/a', problems: [] });
    expect(splitConnectionOverrides('/a?b=1')).toEqual({ url: '/a?b=1', problems: [] });
  });

  it('names the kind of a failure', () => {
    expect([429, 404, 500, 503, 302].map((status) => failureKind({ status }))).toEqual([
      '4xx',
      '4xx',
      '5xx',
      '5xx',
      undefined,
    ]);
    expect(failureKind({ connection: 'failed' })).toBe('ct');
    expect(failureKind({ connection: 'timed-out' })).toBe('rt');
  });
});

describe('Voice requests with connection overrides', () => {
  let emulator: EmulatorHandle;
  let service: FakeService;
  const flowSid = newSid('FW');
  const back = `<Redirect>https://webhooks.twilio.com/v1/Accounts/${ACCOUNT}/Flows/${flowSid}?FlowEvent=return&amp;status=done</Redirect>`;
  /** Answers 429 the first `times` times a path is requested with the same `k` (one per test), then `then`. */
  const refusedFirst = (times: number, then: (request: FakeRequest) => ReturnType<typeof twiml>) => {
    const seen = new Map<string, number>();
    return (request: FakeRequest) => {
      const key = request.query.get('k') ?? '';
      seen.set(key, (seen.get(key) ?? 0) + 1);
      return seen.get(key)! <= times ? refused : then(request);
    };
  };
  const music = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'overrides-assets-')), 'music.wav');

  beforeAll(async () => {
    fs.writeFileSync(music, encodeWavPcm16Mono(new Int16Array(8000 * 0.5), 8000)); // 0.5 s
    emulator = await loadStartEmulator()({ port: 0 });
    service = await startFakeService({
      '/twice-refused': refusedFirst(2, () => twiml(back)),
      '/refused-5xx-only': () => refused,
      '/always-refused': () => refused,
      '/room': (request) => {
        const k = request.query.get('k');
        return twiml(
          `<Dial action="${service.url}/after?k=${k}#rc=2&amp;rp=4xx" timeLimit="3"><Conference startConferenceOnEnter="false" waitUrl="${service.url}/wait?k=${k}#rc=2&amp;rp=4xx">room_${k}</Conference></Dial>`,
        );
      },
      '/wait': refusedFirst(1, () => twiml(`<Play>${service.url}/music.wav</Play><Pause length="30"/>`)),
      '/after': refusedFirst(1, () => twiml(back)),
    });
  });
  afterAll(async () => {
    await service?.close();
    await emulator?.close();
  });

  const redirectFlow = (url: string): FlowDefinition =>
    smallFlow('overrides test', ['incomingCall'], 'hold', [redirectState('hold', { url, timeout: '60' })]);
  const run = (url: string, behaviour: TwilioBehaviour, extra: { hangUpAfterMs?: number } = {}) =>
    runFlow({
      definition: redirectFlow(url),
      baseUrl: service.url,
      emulatorUrl: emulator.url,
      trigger: { kind: 'call' },
      flowSid,
      timeScale: 1,
      assetDirs: [path.dirname(music)],
      behaviour,
      maxRunMs: 20_000,
      ...extra,
    });
  const requestsTo = (p: string) => service.requests.filter((request) => request.path === p);

  it.each([documented, hopeful])(
    "retries the call's own TwiML as the fragment says, whatever the profile ($name)",
    async (behaviour) => {
      const before = requestsTo('/twice-refused').length;
      const result = await run(`${service.url}/twice-refused?k=${behaviour.name}#rc=2&rp=4xx`, behaviour);
      expect(result.end).toEqual({ kind: 'completed', widget: 'hold', event: 'return' });
      expect(requestsTo('/twice-refused').length - before).toBe(3);
      expect(result.timeline.filter((entry) => /Twilio Voice retries in 1 s/.test(entry.text))).toHaveLength(2);
      // The fragment is Twilio's: it is never part of the request.
      expect(result.requests.every((request) => !request.url.includes('#'))).toBe(true);
    },
  );

  it('does not retry a failure the policy does not name, nor past rc', async () => {
    const notNamed = await run(`${service.url}/refused-5xx-only#rc=3&rp=5xx`, documented);
    expect(notNamed.end).toMatchObject({
      kind: 'call-ended',
      reason: expect.stringMatching(/application error: .*HTTP 429\)$/),
    });
    expect(requestsTo('/refused-5xx-only')).toHaveLength(1);
    const exhausted = await run(`${service.url}/always-refused#rc=1&rp=4xx`, documented);
    expect(exhausted.end).toMatchObject({ kind: 'call-ended', reason: expect.stringMatching(/HTTP 429, 2 attempts/) });
    expect(requestsTo('/always-refused')).toHaveLength(2);
  });

  it('hopeful: a refused waitUrl is retried and the hold music plays; the Dial action is retried too', async () => {
    const waits = requestsTo('/wait').length;
    const result = await run(`${service.url}/room?k=hopeful`, hopeful);
    expect(requestsTo('/wait').length - waits).toBe(2);
    expect(result.heard.some((audio) => audio.kind === 'play')).toBe(true);
    // Out at the timeLimit (hopeful), then the Dial action: refused once, retried.
    expect(result.end).toEqual({ kind: 'completed', widget: 'hold', event: 'return' });
    expect(result.timeline.filter((entry) => /Twilio Voice retries/.test(entry.text))).toHaveLength(2);
    expect(await openRooms(emulator.url, 'room_hopeful')).toEqual([]);
  });

  it('documented: a refused waitUrl is not retried; the caller hears silence until released', async () => {
    const waits = requestsTo('/wait').length;
    const result = await run(`${service.url}/room?k=documented`, documented, { hangUpAfterMs: 4_000 });
    expect(requestsTo('/wait').length - waits).toBe(1);
    expect(result.heard.some((audio) => audio.kind === 'play')).toBe(false);
    expect(
      result.timeline.some((entry) =>
        /connection overrides \(rc=2, rp=4xx\) are not honoured under profile documented/.test(entry.text),
      ),
    ).toBe(true);
    expect(
      result.timeline.some((entry) => /the waitUrl failed \(HTTP 429\): the caller hears silence/.test(entry.text)),
    ).toBe(true);
    expect(result.rooms).toEqual([
      expect.objectContaining({ friendlyName: 'room_documented', leftBecause: 'caller-hangup' }),
    ]);
    expect(await openRooms(emulator.url, 'room_documented')).toEqual([]);
  });
});
