import type { ResultReply, StatusReply } from '../contracts';
import type { JobRecord } from './job';
import { retryAfterSeconds } from './state';

/**
 * The Studio-facing view of a job's status (no result: that is /jobs/result's job). Progress and
 * message show while the job is pending: what a poll just reported, else the last heartbeat's.
 */
export function statusReply(
  job: JobRecord,
  now: number,
  polled: { progress?: number; message?: string } = {},
): StatusReply {
  const pending = job.status === 'PENDING';
  const progress = pending ? (polled.progress ?? job.progress) : undefined;
  const message = pending ? (polled.message ?? job.message) : undefined;
  return {
    jobId: job.jobId,
    status: job.status,
    retryAfter: retryAfterSeconds(job, now),
    ...(progress !== undefined ? { progress } : {}),
    ...(message !== undefined ? { message } : {}),
    ...(job.error ? { error: job.error } : {}),
  };
}

export function resultReply(job: JobRecord, result: Record<string, unknown> | undefined): ResultReply {
  return {
    jobId: job.jobId,
    status: job.status,
    ...(job.status === 'COMPLETED' ? { result: result ?? {} } : {}),
    ...(job.error ? { error: job.error } : {}),
  };
}
