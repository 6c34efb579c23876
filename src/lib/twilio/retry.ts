import { setTimeout as sleep } from 'node:timers/promises';
import { budgetLeft } from '../runtime/budget';
import { MIN_TWILIO_CALL_MS, TWILIO_RETRY } from '../timing';
import { isRetryableTwilioFailure } from './errors';

/**
 * Retries rate limits (429 / 54009), Twilio 5xx and dropped connections with jittered backoff
 * (TWILIO_RETRY). Only for calls that are safe to repeat: creates and If-Match updates are,
 * because a repeat answers "taken" or "revision changed", which the callers already handle (a
 * write whose reply was lost comes back as one of those). A call that must not land twice passes
 * a narrower `retryIf` (isUnprocessedTwilioFailure). No retry starts when the request's time
 * budget could not fit it.
 */
export async function withTwilioRetry<T>(
  call: () => Promise<T>,
  retryIf: (error: unknown) => boolean = isRetryableTwilioFailure,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const delay = TWILIO_RETRY.baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random());
      const tooLate = delay + MIN_TWILIO_CALL_MS > budgetLeft();
      if (attempt >= TWILIO_RETRY.attempts || tooLate || !retryIf(error)) throw error;
      await sleep(delay);
    }
  }
}
