import { createHash } from 'node:crypto';
import { isFinalStatus, JOB_ERROR_CODES, LIMITS } from '../contracts';
import { RETRY_AFTER } from '../timing';
import type { JobOutcome, JobRecord, ResultChunks } from './job';

/** The transition the clock makes due on a pending job, if any. Pure: time is passed in. */
export type DueTransition = 'simulated-ready' | 'deadline' | 'poll-backend';

export function dueTransition(job: JobRecord, now: number, pollDueAt?: number): DueTransition | undefined {
  if (isFinalStatus(job.status)) return undefined;
  // The work finishing before the deadline wins over the deadline when both are due.
  if (job.mode === 'simulated' && job.readyAt !== undefined && now >= job.readyAt && job.readyAt <= job.deadline) {
    return 'simulated-ready';
  }
  if (now >= job.deadline) return 'deadline';
  if (job.mode === 'poll' && job.statusUrl && now >= (pollDueAt ?? 0)) return 'poll-backend';
  return undefined;
}

/** The final record for an outcome. Throws if the job is already final: callers check first. */
export function applyOutcome(job: JobRecord, outcome: JobOutcome, now: number, chunks?: ResultChunks): JobRecord {
  if (isFinalStatus(job.status)) throw new Error(`job ${job.jobId} is already ${job.status}`);
  const next: JobRecord = { ...job, status: outcome.status, finishedAt: now, finishedBy: outcome.by };
  delete next.result;
  delete next.resultChunks;
  delete next.error;
  if (outcome.status === 'COMPLETED') {
    const result = outcome.result ?? {};
    if (chunks) next.resultChunks = chunks;
    else next.result = result;
    next.resultHash = resultHash(result);
  } else if (outcome.error) {
    next.error = outcome.error;
  }
  return next;
}

export const timedOutOutcome = (by: JobOutcome['by'] = 'deadline'): JobOutcome => ({
  status: 'TIMED_OUT',
  by,
  error: { code: JOB_ERROR_CODES.timedOut, message: 'The work did not finish before the deadline' },
});

/** Seconds a client should wait before asking again. */
export function retryAfterSeconds(job: JobRecord, now: number): number {
  if (isFinalStatus(job.status)) return 0;
  const untilDeadline = Math.max(1, Math.ceil((job.deadline - now) / 1000));
  let wait: number = RETRY_AFTER.defaultSeconds;
  if (job.mode === 'simulated' && job.readyAt !== undefined) wait = Math.ceil((job.readyAt - now) / 1000);
  if (job.mode === 'poll' && job.pollEverySeconds) wait = job.pollEverySeconds;
  return Math.min(Math.max(1, wait), untilDeadline, RETRY_AFTER.maxSeconds);
}

/**
 * When the hold loop next asks a poll-mode backend (epoch ms; it travels in the waitUrl): the due
 * time the turn came with while still ahead, else one retryAfter from now. Undefined for a job
 * that is final or not in poll mode.
 */
export function nextPollDueAt(job: JobRecord, pollAt: number | undefined, now: number): number | undefined {
  if (job.mode !== 'poll' || isFinalStatus(job.status)) return undefined;
  return pollAt !== undefined && pollAt > now ? pollAt : now + retryAfterSeconds(job, now) * 1000;
}

/** The longest hold a job may have, from its creation: within LIMITS.maxHoldSeconds and the job document's lifetime. */
export function longestHoldSeconds(jobTtlSeconds: number): number {
  return Math.min(LIMITS.maxHoldSeconds, jobTtlSeconds - LIMITS.holdTtlMarginSeconds);
}

/** Two outcomes are the same completion (a duplicate) when status and content agree. */
export function sameOutcome(job: JobRecord, outcome: Pick<JobOutcome, 'status' | 'result' | 'error'>): boolean {
  if (job.status !== outcome.status) return false;
  if (outcome.status === 'COMPLETED') return job.resultHash === resultHash(outcome.result ?? {});
  return stableJson(job.error) === stableJson(outcome.error);
}

/** JSON with object keys sorted, so equal values compare equal whatever their key order. */
export function stableJson(value: unknown): string {
  return (
    JSON.stringify(value, (_key, v: unknown) =>
      v && typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(
            Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
          )
        : v,
    ) ?? 'null'
  );
}

export function resultHash(result: Record<string, unknown>): string {
  return createHash('sha256').update(stableJson(result)).digest('base64url');
}
