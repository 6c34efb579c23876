/**
 * Idempotency under pressure: one key makes one job however the starts arrive (at once, under
 * Sync latency and faults, retried while the first is still running as Studio does after its
 * 10 s timeout), and the deadline and a completion racing it agree on one outcome.
 */
import type { FaultConfig } from '../../emulator/faults';
import type { JobRecord } from '../../src/lib/jobs/job';
import { bodyOf, sleep, SECRET, useInProcessStack } from '../support/in-process-stack';

const { stack, backend } = useInProcessStack({ backend: { secret: SECRET } });
afterEach(() => stack.emulator.faults.clear());

const jobDocuments = (jobId?: string) =>
  stack.emulator
    .state()
    .documents.filter((doc) => (jobId ? doc.uniqueName === `job_${jobId}` : /^job_JB/.test(doc.uniqueName ?? '')));
const dispatchesOf = (jobId: string) => backend.dispatches.filter((d) => d.jobId === jobId).length;

const PRESSURE: Array<[string, FaultConfig]> = [
  ['no faults', {}],
  ['Sync 100-600 ms late', { rules: [{ kind: 'latency', operation: 'sync.*', ms: [100, 600] }] }],
  [
    'Sync failing a third of the time, writes landing with their replies lost',
    {
      seed: 11,
      rules: [
        { kind: 'latency', operation: 'sync.*', rate: 0.5, ms: [20, 300] },
        { kind: 'drop', operation: 'sync.documents.create', rate: 0.2, when: 'after' },
        { kind: 'rate-limit', operation: 'sync.*', rate: 0.15 },
        { kind: 'server-error', status: 503, operation: 'sync.*', rate: 0.1, when: 'either' },
      ],
    },
  ],
];

describe.each(PRESSURE)('concurrent starts with one key (%s)', (name, faults) => {
  it('make exactly one job, dispatched once; every answer names it', async () => {
    const key = `FN-concurrent-${name}`;
    stack.emulator.faults.configure(faults);
    const replies = await Promise.all(
      Array.from({ length: 12 }, () =>
        stack.post('/jobs/start', { idempotencyKey: key, task: 'same', behaviour: 'manual' }),
      ),
    );
    stack.emulator.faults.clear();
    const ok = replies.filter((reply) => reply.status === 200);
    // Under faults a start may answer 503 (Studio retries it); none may answer anything else.
    expect(
      replies.every(
        (reply) => reply.status === 200 || (reply.status === 503 && bodyOf(reply).error.code === 'TWILIO_UNAVAILABLE'),
      ),
    ).toBe(true);
    expect(ok.length).toBeGreaterThan(0);
    const ids = new Set(ok.map((reply) => bodyOf(reply).jobId));
    expect(ids.size).toBe(1);
    const [jobId] = [...ids] as string[];
    // A retry of a start that answered 503 finds the same job.
    const retried = bodyOf(await stack.post('/jobs/start', { idempotencyKey: key, task: 'same', behaviour: 'manual' }));
    expect(retried.jobId).toBe(jobId);
    expect(jobDocuments(jobId)).toHaveLength(1);
    expect(dispatchesOf(jobId!)).toBe(1);
  }, 30_000);
});

describe("a start retried after Studio's timeout", () => {
  it('while the first is still running (its reply lost to Studio): the same job, one dispatch, one document', async () => {
    stack.emulator.faults.configure({ rules: [{ kind: 'latency', operation: 'sync.documents.fetch', ms: 300 }] });
    const input = { idempotencyKey: 'FN-timeout-retry', task: 'slow', behaviour: 'push', delayMs: 2500, wait: 5 };
    const first = stack.post('/jobs/start', input); // Studio gave up on this one
    await sleep(1000);
    const retry = await stack.post('/jobs/start', input);
    const firstReply = await first;
    expect(bodyOf(retry).jobId).toBe(bodyOf(firstReply).jobId);
    expect(firstReply.ms).toBeLessThan(10_000);
    expect(jobDocuments(bodyOf(retry).jobId)).toHaveLength(1);
    expect(dispatchesOf(bodyOf(retry).jobId)).toBe(1);
  }, 30_000);

  it('after the first finished: the same job and its result', async () => {
    const input = { idempotencyKey: 'FN-timeout-after', task: 'fast', behaviour: 'inline' };
    const first = bodyOf(await stack.post('/jobs/start', input));
    const again = bodyOf(await stack.post('/jobs/start', input));
    expect(again).toEqual(first);
    expect(first).toMatchObject({ status: 'COMPLETED', result: backend.results.get(first.jobId) });
    expect(dispatchesOf(first.jobId)).toBe(1);
  });

  it('with other input: refused with 422, nothing changes', async () => {
    const first = bodyOf(
      await stack.post('/jobs/start', { idempotencyKey: 'FN-other', task: 'a', behaviour: 'manual' }),
    );
    const before = JSON.stringify(jobDocuments());
    const other = await stack.post('/jobs/start', { idempotencyKey: 'FN-other', task: 'b', behaviour: 'manual' });
    expect(other.status).toBe(422);
    expect(bodyOf(other).error).toEqual({
      code: 'IDEMPOTENCY_CONFLICT',
      message: expect.stringContaining(first.jobId),
    });
    expect(JSON.stringify(jobDocuments())).toBe(before);
  });
});

describe('the deadline against a completion', () => {
  /** A completion after the deadline is refused (409) and the final status stays TIMED_OUT, untouched. */
  async function lateCompletion(): Promise<void> {
    const { jobId } = bodyOf(
      await stack.post('/jobs/start', { task: 'late', behaviour: 'manual', maxHoldSeconds: 10 }),
    );
    await sleep(10_100);
    const status = bodyOf(await stack.post('/jobs/status', { jobId }));
    expect(status.status).toBe('TIMED_OUT');
    const [doc] = jobDocuments(jobId);
    const late = await stack.complete({ jobId, status: 'COMPLETED', result: { late: true } });
    expect(late.status).toBe(409);
    expect(bodyOf(late).error).toEqual({ code: 'JOB_ALREADY_FINAL', message: expect.stringContaining('TIMED_OUT') });
    expect(jobDocuments(jobId)[0]).toEqual(doc);
    expect(bodyOf(await stack.post('/jobs/result', { jobId }))).toEqual({
      jobId,
      status: 'TIMED_OUT',
      error: { code: 'TIMED_OUT', message: expect.any(String) },
    });
  }

  /** Completions racing the deadline while the hold loop reads the job: one outcome, and everyone is told that one. */
  async function racingCompletions(): Promise<void> {
    const jobs = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        stack.post('/jobs/start', { task: `race-${i}`, behaviour: 'manual', maxHoldSeconds: 10 }),
      ),
    );
    const races = jobs.map(async (reply, i) => {
      const { jobId } = bodyOf(reply);
      const deadline = (jobDocuments(jobId)[0]!.data as unknown as JobRecord).deadline;
      await sleep(deadline - 400 + i * 50 - Date.now());
      const [completion, ...reads] = await Promise.all([
        stack.complete({ jobId, status: 'COMPLETED', result: { i } }),
        stack.post('/hold/wait', {}, `jobId=${jobId}&turn=1`),
        stack.post('/jobs/status', { jobId }),
      ]);
      for (const read of reads) expect(read.status).toBe(200);
      return { jobId, completion };
    });
    const seen = new Set<string>();
    for (const { jobId, completion } of await Promise.all(races)) {
      const final = bodyOf(await stack.post('/jobs/result', { jobId }));
      seen.add(final.status);
      const [doc] = jobDocuments(jobId);
      const versions = [...doc!.history.map((h) => h.data), doc!.data] as unknown as JobRecord[];
      expect(versions.filter((v) => v.status !== 'PENDING').map((v) => v.status)).toEqual([final.status]);
      if (completion.status === 200) {
        expect(final).toEqual({ jobId, status: 'COMPLETED', result: expect.any(Object) });
      } else {
        expect(completion.status).toBe(409);
        expect(final.status).toBe('TIMED_OUT');
      }
    }
    // With completions spread across the deadline, both sides win some races.
    expect(seen).toEqual(new Set(['COMPLETED', 'TIMED_OUT']));
  }

  it('late completions are refused without a change; racing ones agree with the one outcome (Sync latency on)', async () => {
    stack.emulator.faults.configure({
      seed: 5,
      rules: [{ kind: 'latency', operation: 'sync.*', rate: 0.5, ms: [10, 200] }],
    });
    await Promise.all([lateCompletion(), racingCompletions()]);
  }, 40_000);
});
