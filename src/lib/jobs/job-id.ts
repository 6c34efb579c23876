import { createHmac, randomBytes } from 'node:crypto';

const JOB_ID = /^JB[0-9a-f]{32}$/;

export const isJobId = (value: unknown): value is string => typeof value === 'string' && JOB_ID.test(value);

/**
 * The same idempotency key always maps to the same job id, which makes "create the job
 * document under that name" the atomic idempotency check. Keyed with a secret so ids can't be
 * guessed from keys (execution SIDs are not secret).
 */
export function jobIdForKey(secret: string, key: string): string {
  return `JB${createHmac('sha256', secret).update(key).digest('hex').slice(0, 32)}`;
}

export const randomJobId = () => `JB${randomBytes(16).toString('hex')}`;
