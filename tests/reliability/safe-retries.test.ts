/**
 * The service retries Twilio calls that fail with 429 / 54009, 5xx or a dropped connection. A
 * retry is only safe if repeating the call cannot do harm: these tests make the FIRST attempt
 * succeed on Twilio's side and lose its reply (`when: 'after'`), so the retry meets its own
 * earlier write, and check that nothing is lost or done twice. Same for the backend: a dispatch
 * whose answer is lost is sent again and the backend sees the same job.
 */
import { startExampleBackend } from '../../backends/example-backend';
import type { FaultRule } from '../../emulator/faults';
import { control } from '../support/emulator';
import { bodyOf, FLOW_SID, SECRET, sleep, startInProcessStack, useInProcessStack } from '../support/in-process-stack';
import { untilNotPending } from '../support/wait';

const { stack, backend } = useInProcessStack({ backend: { secret: SECRET } });
afterEach(() => stack.emulator.faults.clear());

const injected = () => stack.emulator.faults.report().injected.total;
const withFault = (rule: FaultRule) => stack.emulator.faults.configure({ seed: 3, rules: [rule] });
/** The body of a /jobs/start with these parameters. */
const startJob = async (params: Record<string, string | number>) => bodyOf(await stack.post('/jobs/start', params));
let callCounter = 0;
const newCallSid = () => `CA${(0xabc000 + callCounter++).toString(16).padStart(32, '0')}`;

/** The caller's call reaches /hold (which records it) and joins the job's room, as Twilio does after /hold's <Dial>. */
async function joinRoom(jobId: string): Promise<string> {
  const callSid = newCallSid();
  const created = await control(stack.emulator.url, 'POST', '/calls', { callSid });
  expect(created.status).toBe(200);
  expect((await stack.post('/hold', { jobId, flowSid: FLOW_SID, CallSid: callSid })).text).toContain('<Dial');
  const response = await control(stack.emulator.url, 'POST', '/conferences/join', {
    friendlyName: `hold_${jobId}`,
    callSid,
    startConferenceOnEnter: false,
  });
  expect(response.status).toBe(200);
  return callSid;
}

async function released(callSid: string, timeoutMs = 3000): Promise<boolean> {
  return (await control(stack.emulator.url, 'GET', `/calls/${callSid}/released?timeoutMs=${timeoutMs}`)).body
    .released as boolean;
}

const untilFinal = (jobId: string, timeoutMs = 8000): Promise<any> =>
  untilNotPending(async () => bodyOf(await stack.post('/jobs/status', { jobId })), timeoutMs, 100);

describe('a Twilio write that happened although its reply was lost', () => {
  it.each(['drop', 'server-error', 'timeout'] as const)(
    'job document created, reply lost (%s): the retry recognises its own job and dispatches it exactly once',
    async (kind) => {
      withFault({ kind, operation: 'sync.documents.create', nth: 1, when: 'after', ms: 4000 });
      const start = await stack.post('/jobs/start', { task: `create-lost-${kind}`, behaviour: 'push', delayMs: 100 });
      expect(injected()).toBe(1);
      expect(start.status).toBe(200);
      const { jobId } = bodyOf(start);
      expect(backend.dispatches.filter((d) => d.jobId === jobId)).toHaveLength(1);
      expect(await untilFinal(jobId)).toMatchObject({ status: 'COMPLETED' });
      expect(bodyOf(await stack.post('/jobs/result', { jobId })).result).toEqual(backend.results.get(jobId));
    },
    20_000,
  );

  it('final status written, reply lost: the completion is acknowledged and the caller released at once', async () => {
    const { jobId } = await startJob({ task: 'update-lost', behaviour: 'manual' });
    const callSid = await joinRoom(jobId);
    withFault({ kind: 'drop', operation: 'sync.documents.update', nth: 1, when: 'after' });
    const result = { answer: 'kept', list: [1, 2, 3] };
    const reply = await stack.complete({ jobId, status: 'COMPLETED', result });
    expect(injected()).toBe(1);
    expect(reply.status).toBe(200);
    expect(bodyOf(reply)).toMatchObject({ jobId, status: 'COMPLETED', accepted: true });
    expect(await released(callSid, 500)).toBe(true);
    expect(bodyOf(await stack.post('/jobs/result', { jobId }))).toEqual({ jobId, status: 'COMPLETED', result });
  });

  it('a result chunk document created, reply lost: the 50 KB result still lands byte for byte', async () => {
    const { jobId } = await startJob({ task: 'chunk-lost', behaviour: 'manual' });
    withFault({ kind: 'server-error', status: 502, operation: 'sync.documents.create', nth: 2, when: 'after' });
    const result = { blob: 'é'.repeat(24_000), tail: 'end' };
    const reply = await stack.complete({ jobId, status: 'COMPLETED', result });
    expect(injected()).toBe(1);
    expect(reply.status).toBe(200);
    const read = await stack.post('/jobs/result', { jobId });
    expect(JSON.stringify(bodyOf(read).result)).toBe(JSON.stringify(result));
  });

  it('the call redirected, reply lost: the completion still succeeds, the caller is out, and the redirect is not repeated', async () => {
    const { jobId } = await startJob({ task: 'redirect-lost', behaviour: 'manual' });
    const callSid = await joinRoom(jobId);
    const before = stack.emulator.stats()['api.calls.update'] ?? 0;
    withFault({ kind: 'drop', operation: 'api.calls.update', nth: 1, when: 'after' });
    const reply = await stack.complete({ jobId, status: 'COMPLETED', result: { ok: true } });
    expect(injected()).toBe(1);
    expect(reply.status).toBe(200);
    expect(await released(callSid)).toBe(true);
    // A repeat of a redirect that landed would take the caller away from where it sent them.
    expect((stack.emulator.stats()['api.calls.update'] ?? 0) - before).toBe(1);
  });
});

describe('rate limits and 5xx are retried with backoff', () => {
  it.each([
    ['sync.documents.fetch', { kind: 'rate-limit' }],
    ['sync.documents.update', { kind: 'server-error', status: 503 }],
    ['api.calls.update', { kind: 'rate-limit' }],
  ] as Array<[string, Omit<FaultRule, 'operation'>]>)(
    '%s failing twice (%o) still succeeds',
    async (operation, rule) => {
      const { jobId } = await startJob({ task: `retry-${operation}`, behaviour: 'manual' });
      const callSid = await joinRoom(jobId);
      const before = stack.emulator.stats()[operation] ?? 0;
      withFault({ ...rule, operation, nth: [1, 2] } as FaultRule);
      const reply = await stack.complete({ jobId, status: 'COMPLETED', result: { op: operation } });
      expect(reply.status).toBe(200);
      expect(injected()).toBe(2);
      expect((stack.emulator.stats()[operation] ?? 0) - before).toBeGreaterThanOrEqual(3);
      expect(await released(callSid)).toBe(true);
      expect(bodyOf(await stack.post('/jobs/result', { jobId })).result).toEqual({ op: operation });
    },
  );
});

it('sync.documents.create failing twice (429 / 54009) still makes the job, once', async () => {
  withFault({ kind: 'rate-limit', operation: 'sync.documents.create', nth: [1, 2] });
  const before = stack.emulator.stats()['sync.documents.create'] ?? 0;
  const start = await stack.post('/jobs/start', { task: 'create-429', behaviour: 'manual' });
  expect(start.status).toBe(200);
  expect(injected()).toBe(2);
  expect((stack.emulator.stats()['sync.documents.create'] ?? 0) - before).toBe(3);
  expect(backend.dispatches.filter((d) => d.jobId === bodyOf(start).jobId)).toHaveLength(1);
});

describe('the backend: dispatch and status URL faults', () => {
  it.each([
    ['drop', 2],
    ['error', 2],
    ['503', 2],
    ['drop-after', 2],
  ])(
    'a dispatch answered with %s once is sent again; the backend sees one job',
    async (fault, expectedDispatches) => {
      const start = await startJob({
        task: `dispatch-${fault}`,
        behaviour: 'push',
        delayMs: 100,
        dispatchFault: fault,
      });
      expect(backend.dispatches.filter((d) => d.jobId === start.jobId)).toHaveLength(expectedDispatches);
      expect(await untilFinal(start.jobId)).toMatchObject({ status: 'COMPLETED' });
      while (!backend.completions.some((c) => c.jobId === start.jobId)) await sleep(20);
      await sleep(300);
      expect(backend.completions.filter((c) => c.jobId === start.jobId)).toHaveLength(1);
      expect(bodyOf(await stack.post('/jobs/result', { jobId: start.jobId })).result).toEqual(
        backend.results.get(start.jobId),
      );
    },
    15_000,
  );

  it('a slow dispatch (latency within the dispatch timeout) is confirmed', async () => {
    const start = await startJob({
      task: 'dispatch-slow',
      behaviour: 'poll',
      delayMs: 100,
      dispatchFault: 'latency:300',
    });
    expect(await untilFinal(start.jobId)).toMatchObject({ status: 'COMPLETED' });
  }, 15_000);

  it.each(['error', 'drop', 'hang', '503'])(
    'a status URL that fails (%s) twice is asked again until the job finishes',
    async (fault) => {
      const start = await startJob({
        task: `status-${fault}`,
        behaviour: 'poll',
        delayMs: 200,
        statusFault: fault,
        statusFaultTimes: 2,
      });
      expect(start.status).toBe('PENDING');
      // /hold/wait polls when the poll is due (pollAt in its URL); call it like the hold loop does.
      let final: any;
      for (let turn = 0; turn < 30; turn++) {
        await stack.post('/hold/wait', {}, `jobId=${start.jobId}&turn=${turn}&pollAt=0`);
        final = bodyOf(await stack.post('/jobs/status', { jobId: start.jobId }));
        if (final.status !== 'PENDING') break;
        await sleep(100);
      }
      expect(final).toMatchObject({ status: 'COMPLETED' });
      expect(backend.faultsInjected[`status:${fault}`]).toBeGreaterThanOrEqual(1);
    },
    30_000,
  );
});

describe('many deliveries of one completion at once', () => {
  it('exactly one write lands; every delivery is acknowledged as the same outcome', async () => {
    const { jobId } = await startJob({ task: 'stampede', behaviour: 'manual' });
    const callSid = await joinRoom(jobId);
    const before = stack.emulator.state().documents.find((d) => d.uniqueName === `job_${jobId}`)!.revision;
    const redirectsBefore = stack.emulator.stats()['api.calls.update'] ?? 0;
    const replies = await Promise.all(
      Array.from({ length: 25 }, () => stack.complete({ jobId, status: 'COMPLETED', result: { same: true } })),
    );
    // Deliveries that read the job while it was pending release at the same moment as the one
    // that lands (2 round trips, not 3); those that read it final release nobody.
    expect((stack.emulator.stats()['api.calls.update'] ?? 0) - redirectsBefore).toBeGreaterThanOrEqual(1);
    expect(replies.map((r) => r.status)).toEqual(Array(25).fill(200));
    expect(replies.filter((r) => bodyOf(r).duplicate === false)).toHaveLength(1);
    const after = stack.emulator.state().documents.find((d) => d.uniqueName === `job_${jobId}`)!.revision;
    expect(Number(after) - Number(before)).toBe(1);
    expect(await released(callSid)).toBe(true);
  });
});

it.each([
  [
    'a redirect answered 500 (not repeated: it may have landed)',
    { kind: 'server-error', status: 500, operation: 'api.calls.update' },
  ],
  ['every Voice call refused with 503', { kind: 'server-error', status: 503, operation: 'api.*' }],
] as Array<[string, FaultRule]>)(
  'the hold loop releases a caller whose completion could not: %s',
  async (_name, rule) => {
    const { jobId } = await startJob({ task: `late-release-${rule.operation}`, behaviour: 'manual' });
    const callSid = await joinRoom(jobId);
    withFault(rule);
    const reply = await stack.complete({ jobId, status: 'COMPLETED', result: { ok: 1 } });
    expect(reply.status).toBe(200);
    expect(bodyOf(reply)).toMatchObject({ status: 'COMPLETED', released: false });
    expect(await released(callSid, 200)).toBe(false);
    stack.emulator.faults.clear();
    // A turn right after the completion leaves the release to it (no double redirect)...
    await stack.post('/hold/wait', {}, `jobId=${jobId}&flowSid=${FLOW_SID}&turn=1`);
    expect(await released(callSid, 200)).toBe(false);
    // ...the next turn of the music loop finds the caller still there and moves them out.
    await sleep(3_100);
    await stack.post('/hold/wait', { CallSid: callSid }, `jobId=${jobId}&flowSid=${FLOW_SID}&turn=2`);
    expect(await released(callSid)).toBe(true);
    expect(bodyOf(await stack.post('/jobs/result', { jobId }))).toMatchObject({
      status: 'COMPLETED',
      result: { ok: 1 },
    });
  },
);

it('backend faults at a seeded rate (option): a dispatch that fails twice leaves the job pending until its deadline, unconfirmed', async () => {
  const flaky = await startExampleBackend({
    secret: SECRET,
    faults: { seed: 1, dispatch: { rate: 1, kinds: ['error'] } },
  });
  const own = await startInProcessStack({ BACKEND_URL: flaky.url });
  try {
    const start = await own.post('/jobs/start', { task: 'always-500', behaviour: 'push' });
    expect(bodyOf(start)).toMatchObject({ status: 'PENDING' });
    expect(flaky.faultsInjected).toEqual({ 'dispatch:error': 2 }); // the first try and the one retry
    expect(own.host.logs.some((line) => /dispatch unconfirmed \(backend answered 500\)/.test(line))).toBe(true);
  } finally {
    await own.stop();
    await flaky.close();
  }
});
