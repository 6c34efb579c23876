/**
 * How a backend POSTs to the job's callbackUrl: plain JSON to the capability URL exactly as the
 * dispatch gave it (the URL is the credential; no signature). A completion is sent again after no
 * answer, a 429 or a 5xx (a 503 DELIVERY_PENDING is one), the same body, with a backoff that
 * honours Retry-After; a heartbeat is sent once.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** What /jobs/complete finally answered (status 0: no answer), and when, by performance.now(). */
export interface CallbackReply {
  status: number;
  body: unknown;
  attempts: number;
  sentAt: number;
  answeredAt: number;
}

const ATTEMPT_TIMEOUT_MS = 12_000;
const FIRST_PAUSE_MS = 200;
const MAX_BACKOFF_MS = 2000;
const MAX_RETRY_AFTER_MS = 5000;

interface Answer {
  status: number;
  body: unknown;
  retryAfterMs: number;
}

async function postJson(url: string, body: string): Promise<Answer> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
    });
    const answer: unknown = await response.json().catch(() => undefined);
    return {
      status: response.status,
      body: answer,
      retryAfterMs: (Number(response.headers.get('retry-after')) || 0) * 1000,
    };
  } catch {
    return { status: 0, body: undefined, retryAfterMs: 0 };
  }
}

function isRetryable(status: number): boolean {
  return status === 0 || status === 429 || status >= 500;
}

/** Pause before attempt `attempt + 1`: doubling from 200 ms up to 2 s, or Retry-After (capped) if longer. */
function pauseAfter(attempt: number, retryAfterMs: number): number {
  return Math.max(
    Math.min(FIRST_PAUSE_MS * 2 ** (attempt - 1), MAX_BACKOFF_MS),
    Math.min(retryAfterMs, MAX_RETRY_AFTER_MS),
  );
}

/** Sends `payload`, again while the answer says "retry", for up to `retryForMs` (0: once) or until `stopped()`. */
export async function sendCompletion(
  callbackUrl: string,
  payload: unknown,
  retryForMs: number,
  stopped: () => boolean,
): Promise<CallbackReply> {
  const body = JSON.stringify(payload);
  const sentAt = performance.now();
  const giveUpAt = Date.now() + retryForMs;
  for (let attempt = 1; ; attempt++) {
    const answer = await postJson(callbackUrl, body);
    const pause = pauseAfter(attempt, answer.retryAfterMs);
    if (!isRetryable(answer.status) || stopped() || Date.now() + pause > giveUpAt) {
      return { status: answer.status, body: answer.body, attempts: attempt, sentAt, answeredAt: performance.now() };
    }
    await sleep(pause);
  }
}

/** Sends `payload` once (a lost heartbeat is simply followed by the next). */
export async function sendOnce(callbackUrl: string, payload: unknown): Promise<{ status: number; body: unknown }> {
  const { status, body } = await postJson(callbackUrl, JSON.stringify(payload));
  return { status, body };
}
