import { randomInt } from 'node:crypto';
import type { JobOutcome, JobRecord } from '../jobs/job';

/**
 * The built-in backend used when no BACKEND_URL is set. It needs no process of its own: the job
 * records when its work is done, and whichever request reads the job next finalizes it. Input
 * `simulateSeconds` and `simulateFailure=true` let a flow try the fast and failing paths.
 */
export function planSimulatedWork(
  input: Record<string, unknown>,
  range: { min: number; max: number },
  now: number,
): Pick<JobRecord, 'readyAt' | 'simulateFailure'> {
  const asked = Number(input.simulateSeconds);
  const seconds =
    input.simulateSeconds !== undefined && Number.isFinite(asked) && asked >= 0
      ? Math.min(asked, 3600)
      : range.min + randomInt(0, Math.round((range.max - range.min) * 1000) + 1) / 1000;
  const failure = input.simulateFailure === true || input.simulateFailure === 'true';
  return { readyAt: now + Math.round(seconds * 1000), ...(failure ? { simulateFailure: true } : {}) };
}

export function simulatedOutcome(job: JobRecord): JobOutcome {
  if (job.simulateFailure) {
    return { status: 'FAILED', by: 'simulated', error: { code: 'SIMULATED_FAILURE', message: 'The simulated backend was asked to fail' } };
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
