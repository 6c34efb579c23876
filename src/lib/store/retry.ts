import { setTimeout as sleep } from 'node:timers/promises';
import { budgetLeft, MIN_TWILIO_CALL_MS } from '../http/budget';
import { isRetryableTwilioFailure } from './twilio-errors';

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  /** No retry starts after this epoch-ms, so a request stays inside its 10 s budget. */
  notAfter?: number;
  /** Which failures to repeat (default: isRetryableTwilioFailure). */
  retryIf?: (error: unknown) => boolean;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 150 };


/**
 * Retries rate limits (429 / 54009), Twilio 5xx and dropped connections with jittered backoff.
 * Only for calls that are safe to repeat: creates and If-Match updates are, because a repeat
 * answers "taken" or "revision changed", which the callers already handle (a write whose reply
 * was lost comes back as one of those). No retry starts when the request's time budget could
 * not fit it.
 */
export async function withTwilioRetry<T>(call: () => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const delay = policy.baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random());
      const tooLate =
        (policy.notAfter !== undefined && Date.now() + delay > policy.notAfter) || delay + MIN_TWILIO_CALL_MS > budgetLeft();
      if (attempt >= policy.attempts || tooLate || !(policy.retryIf ?? isRetryableTwilioFailure)(error)) throw error;
      await sleep(delay);
    }
  }
}
