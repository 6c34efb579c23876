import { randomInt } from 'node:crypto';
import { JOB_ERROR_CODES, SIMULATED_BACKEND } from '../contracts';
import type { JobOutcome, JobRecord } from './job';

/**
 * The built-in backend used when no BACKEND_URL is set. It needs no process of its own: the job
 * records when its work is done, and whichever request reads the job next finalizes it. The job
 * input's SIMULATED_BACKEND parameters let a flow try the fast and failing paths.
 */
export function planSimulatedWork(
  input: Record<string, unknown>,
  range: { min: number; max: number },
  now: number,
): Pick<JobRecord, 'readyAt' | 'simulateFailure'> {
  const askedValue = input[SIMULATED_BACKEND.secondsParam];
  const asked = Number(askedValue);
  const seconds =
    askedValue !== undefined && Number.isFinite(asked) && asked >= 0
      ? Math.min(asked, SIMULATED_BACKEND.maxSeconds)
      : range.min + randomInt(0, Math.round((range.max - range.min) * 1000) + 1) / 1000;
  const failureValue = input[SIMULATED_BACKEND.failureParam];
  const failure = failureValue === true || failureValue === 'true';
  return { readyAt: now + Math.round(seconds * 1000), ...(failure ? { simulateFailure: true } : {}) };
}

export function simulatedOutcome(job: JobRecord): JobOutcome {
  if (job.simulateFailure) {
    return {
      status: 'FAILED',
      by: 'simulated',
      error: { code: JOB_ERROR_CODES.simulatedFailure, message: 'The simulated backend was asked to fail' },
    };
  }
  return {
    status: 'COMPLETED',
    by: 'simulated',
    result: {
      message: 'Thanks for waiting. Your request has been processed.',
      reference: `DEMO-${job.jobId.slice(-6).toUpperCase()}`,
      source: 'simulated-backend',
      tookSeconds: Math.round(((job.readyAt ?? job.createdAt) - job.createdAt) / 100) / 10,
    },
  };
}
