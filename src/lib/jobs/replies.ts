import type { ResultReply, StatusReply } from '../contracts';
import type { JobRecord } from './job';
import { retryAfterSeconds } from './state';

/** The Studio-facing view of a job's status (no result: that is /jobs/result's job). */
export function statusReply(job: JobRecord, now: number, progress?: number): StatusReply {
  return {
    jobId: job.jobId,
    status: job.status,
    retryAfter: retryAfterSeconds(job, now),
    ...(progress !== undefined ? { progress } : {}),
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
