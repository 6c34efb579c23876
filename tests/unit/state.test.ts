import {
  applyOutcome,
  dueTransition,
  retryAfterSeconds,
  sameOutcome,
  stableJson,
  timedOutOutcome,
} from '../../src/lib/jobs/state';
import type { JobRecord } from '../../src/lib/jobs/job';

const T0 = 1_700_000_000_000;
const pending = (over: Partial<JobRecord> = {}): JobRecord => ({
  v: 1,
  jobId: 'JB' + '0'.repeat(32),
  status: 'PENDING',
  inputHash: 'h',
  createdAt: T0,
  deadline: T0 + 60_000,
  mode: 'push',
  ...over,
});

describe('dueTransition', () => {
  it('finishes simulated work once its time has come, not before', () => {
    const job = pending({ mode: 'simulated', readyAt: T0 + 5_000 });
    expect(dueTransition(job, T0 + 4_999)).toBeUndefined();
    expect(dueTransition(job, T0 + 5_000)).toBe('simulated-ready');
  });
  it('lets work that finished before the deadline win even when both are due', () => {
    expect(dueTransition(pending({ mode: 'simulated', readyAt: T0 + 59_000 }), T0 + 70_000)).toBe('simulated-ready');
    expect(dueTransition(pending({ mode: 'simulated', readyAt: T0 + 61_000 }), T0 + 70_000)).toBe('deadline');
  });
  it('times out pending push jobs at the deadline', () => {
    expect(dueTransition(pending(), T0 + 59_999)).toBeUndefined();
    expect(dueTransition(pending(), T0 + 60_000)).toBe('deadline');
  });
  it('polls the backend only when a poll is due', () => {
    const job = pending({ mode: 'poll', statusUrl: 'http://127.0.0.1/s' });
    expect(dueTransition(job, T0 + 1_000, T0 + 2_000)).toBeUndefined();
    expect(dueTransition(job, T0 + 2_000, T0 + 2_000)).toBe('poll-backend');
    expect(dueTransition(job, T0 + 1_000)).toBe('poll-backend');
  });
  it('never moves a final job', () => {
    expect(dueTransition(pending({ status: 'COMPLETED' }), T0 + 1e9)).toBeUndefined();
  });
});

describe('applyOutcome', () => {
  it('records the result, its hash and who finished the job', () => {
    const next = applyOutcome(pending(), { status: 'COMPLETED', result: { a: 1 }, by: 'callback' }, T0 + 10);
    expect(next).toMatchObject({ status: 'COMPLETED', result: { a: 1 }, finishedAt: T0 + 10, finishedBy: 'callback' });
    expect(next.resultHash).toEqual(expect.any(String));
  });
  it('points at chunk documents instead of an inline result for large results', () => {
    const chunks = { prefix: 'job_x_rabc', count: 3, bytes: 40_000 };
    const next = applyOutcome(pending(), { status: 'COMPLETED', result: { big: 'x' }, by: 'poll' }, T0, chunks);
    expect(next.result).toBeUndefined();
    expect(next.resultChunks).toEqual(chunks);
  });
  it('keeps the error of a failed job and refuses to change a final one', () => {
    const failed = applyOutcome(pending(), timedOutOutcome(), T0);
    expect(failed).toMatchObject({ status: 'TIMED_OUT', error: { code: 'TIMED_OUT' } });
    expect(() => applyOutcome(failed, { status: 'COMPLETED', by: 'callback' }, T0)).toThrow(/already TIMED_OUT/);
  });
});

describe('sameOutcome', () => {
  it('tells a duplicate completion from a conflicting one, whatever the key order', () => {
    const done = applyOutcome(pending(), { status: 'COMPLETED', result: { a: 1, b: [1, 2] }, by: 'callback' }, T0);
    expect(sameOutcome(done, { status: 'COMPLETED', result: { b: [1, 2], a: 1 } })).toBe(true);
    expect(sameOutcome(done, { status: 'COMPLETED', result: { a: 2, b: [1, 2] } })).toBe(false);
    expect(sameOutcome(done, { status: 'FAILED', error: { code: 'X', message: 'y' } })).toBe(false);
  });
});

describe('retryAfterSeconds', () => {
  it('is 0 for final jobs and never past the deadline', () => {
    expect(retryAfterSeconds(pending({ status: 'FAILED' }), T0)).toBe(0);
    expect(retryAfterSeconds(pending({ mode: 'simulated', readyAt: T0 + 7_500 }), T0)).toBe(8);
    expect(retryAfterSeconds(pending({ deadline: T0 + 2_000 }), T0)).toBe(2);
    expect(retryAfterSeconds(pending({ mode: 'poll', pollEverySeconds: 3 }), T0)).toBe(3);
  });
});

describe('stableJson', () => {
  it('sorts keys at every depth', () => {
    expect(stableJson({ b: { d: 1, c: 2 }, a: [{ z: 1, y: 2 }] })).toBe('{"a":[{"y":2,"z":1}],"b":{"c":2,"d":1}}');
  });
});
