import { createHmac, timingSafeEqual } from 'node:crypto';
import { keyOf } from './signing';

/**
 * The capability in a job's callbackUrl: HMAC-SHA256 of the job id under the webhook secret.
 * Only we can mint one, it names one job, and it needs no state: any secret still configured
 * (the newest and, during a rotation, the previous one) verifies it. The runtime hands functions
 * a parsed body, never its bytes, so a signature over the completion body could not be checked;
 * a token in the URL can.
 */
export function completionToken(secret: string, jobId: string): string {
  return createHmac('sha256', keyOf(secret)).update(`studio-async.complete.${jobId}`).digest('base64url');
}

/** True when `token` was minted for `jobId` by one of `secrets` (constant time per secret). */
export function isCompletionToken(secrets: readonly string[], jobId: string, token: string): boolean {
  const given = Buffer.from(token);
  let valid = false;
  for (const secret of secrets) {
    const wanted = Buffer.from(completionToken(secret, jobId));
    if (given.length === wanted.length && timingSafeEqual(given, wanted)) valid = true;
  }
  return valid;
}
