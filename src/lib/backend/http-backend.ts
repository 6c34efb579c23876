import { JOB_ERROR_CODES, type BackendStatusReply, type CancelEvent, type DispatchRequest } from '../contracts';
import type { JobOutcome } from '../jobs/job';
import { normalizeError, normalizeResult } from '../jobs/payload';
import type { Backend, CancelDelivery, DispatchResult, PollResult } from '../jobs/ports';
import { budgetLeft } from '../runtime/budget';
import {
  AFTER_CANCEL_RESERVE_MS,
  AFTER_DISPATCH_RESERVE_MS,
  AFTER_POLL_RESERVE_MS,
  BACKEND_POLL_TIMEOUT_MS,
  BACKEND_RETRY_AFTER,
  MIN_BACKEND_CALL_MS,
} from '../timing';
import { checkProgressMessage } from './completion';
import { signBody } from './signing';

/** What the HTTP backend is reached with (a ServiceConfig has it). */
export interface HttpBackendSettings {
  backendUrl?: string;
  /** Signs dispatches, polls and cancel events with the newest. */
  webhookSecrets: readonly string[];
  dispatchTimeoutMs: number;
}

/**
 * The Backend port over HTTP (Standard Webhooks signatures): the backend at BACKEND_URL, or
 * undefined when none is configured (the job domain then uses its built-in simulated backend).
 */
export function httpBackend(settings: HttpBackendSettings): Backend | undefined {
  const { backendUrl, dispatchTimeoutMs } = settings;
  if (!backendUrl) return undefined;
  const secret = settings.webhookSecrets[0] ?? '';
  return {
    dispatch: (request) => dispatchToBackend(backendUrl, secret, request, dispatchTimeoutMs),
    poll: (statusUrl) => pollBackend(statusUrl, secret, BACKEND_POLL_TIMEOUT_MS),
    cancel: (event, cancelUrl) => sendCancelEvent(cancelUrl ?? backendUrl, secret, event, dispatchTimeoutMs),
  };
}

function retryAfterHeader(value: string | null): number {
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds >= 1
    ? Math.min(Math.ceil(seconds), BACKEND_RETRY_AFTER.maxSeconds)
    : BACKEND_RETRY_AFTER.defaultSeconds;
}

async function readJson(response: Response): Promise<Record<string, unknown> | undefined> {
  try {
    const body: unknown = await response.json();
    return body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** An http(s) URL given by the backend (relative to its own), or undefined when absent or unusable. */
function httpUrl(value: unknown, base: string): string | undefined {
  if (typeof value !== 'string' || value === '' || value.length > 2000) return undefined;
  try {
    const url = new URL(value, base);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.toString() : undefined;
  } catch {
    return undefined;
  }
}

/** An answer that says the work is already done (200 with a final status) becomes an outcome. */
function finishedOutcome(body: Record<string, unknown> | undefined, by: JobOutcome['by']): JobOutcome | undefined {
  if (body?.status === 'COMPLETED') return { status: 'COMPLETED', result: normalizeResult(body.result), by };
  if (body?.status === 'FAILED') return { status: 'FAILED', error: normalizeError(body.error), by };
  return undefined;
}

/**
 * POSTs the signed dispatch. The answer decides the mode: 202 with a statusUrl means poll,
 * any other 2xx means push (the backend will call /jobs/complete), a 200 with a final status is
 * an inline finish, 4xx is a refusal. No answer in time leaves the job pending: the backend may
 * well have it, and the deadline bounds the wait. One retry on a 5xx or a refused connection.
 */
export async function dispatchToBackend(
  backendUrl: string,
  secret: string,
  request: DispatchRequest,
  timeoutMs: number,
): Promise<DispatchResult> {
  const body = JSON.stringify(request);
  const giveUpAt = Date.now() + Math.min(timeoutMs, budgetLeft() - AFTER_DISPATCH_RESERVE_MS);
  let lastProblem = '';
  for (let attempt = 1; attempt <= 2; attempt++) {
    const remaining = giveUpAt - Date.now();
    if (remaining < MIN_BACKEND_CALL_MS.dispatch) break;
    try {
      const response = await fetch(backendUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signBody(secret, body) },
        body,
        signal: AbortSignal.timeout(remaining),
      });
      const answer = await readJson(response);
      if (response.status >= 500) {
        lastProblem = `backend answered ${response.status}`;
        continue;
      }
      if (response.status >= 400) {
        return {
          kind: 'finished',
          outcome: {
            status: 'FAILED',
            by: 'dispatch',
            error: normalizeError(
              answer?.error ?? `backend refused the job with HTTP ${response.status}`,
              JOB_ERROR_CODES.backendRejected,
            ),
          },
        };
      }
      const statusUrl = typeof answer?.statusUrl === 'string' ? answer.statusUrl : response.headers.get('location');
      const cancelUrl = httpUrl(answer?.cancelUrl, backendUrl);
      const cancel = cancelUrl ? { cancelUrl } : {};
      if (response.status === 202 && statusUrl) {
        return {
          kind: 'poll',
          statusUrl: new URL(statusUrl, backendUrl).toString(),
          retryAfterSeconds: retryAfterHeader(response.headers.get('retry-after')),
          ...cancel,
        };
      }
      return finishedOutcome(answer, 'dispatch')
        ? { kind: 'finished', outcome: finishedOutcome(answer, 'dispatch')! }
        : { kind: 'accepted', ...cancel };
    } catch (error) {
      const name = (error as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError')
        return { kind: 'unconfirmed', reason: `no answer within ${timeoutMs} ms` };
      lastProblem = (error as Error).message;
    }
  }
  return { kind: 'unconfirmed', reason: lastProblem || `no answer within ${timeoutMs} ms` };
}

/** GETs a poll-mode backend's statusUrl (signed, empty body) and reads PENDING/COMPLETED/FAILED. */
export async function pollBackend(statusUrl: string, secret: string, timeoutMs: number): Promise<PollResult> {
  const allowedMs = Math.floor(Math.min(timeoutMs, budgetLeft() - AFTER_POLL_RESERVE_MS));
  if (allowedMs < MIN_BACKEND_CALL_MS.other)
    return { kind: 'unreachable', reason: 'no time left in this request to ask the backend' };
  try {
    const response = await fetch(statusUrl, {
      headers: { ...signBody(secret, '') },
      signal: AbortSignal.timeout(allowedMs),
    });
    const answer = (await readJson(response)) as (BackendStatusReply & Record<string, unknown>) | undefined;
    if (!response.ok) return { kind: 'unreachable', reason: `status URL answered ${response.status}` };
    const outcome = finishedOutcome(answer, 'poll');
    if (outcome) return { kind: 'finished', outcome };
    const progress =
      typeof answer?.progress === 'number' && answer.progress >= 0 && answer.progress <= 100
        ? answer.progress
        : undefined;
    const message = spokenMessage(answer?.message);
    return {
      kind: 'pending',
      retryAfterSeconds: retryAfterHeader(response.headers.get('retry-after')),
      progress,
      ...(message ? { message } : {}),
    };
  } catch (error) {
    return { kind: 'unreachable', reason: (error as Error).message };
  }
}

/** A poll answer's message, when it is one the caller can hear (a bad one is ignored, not refused). */
function spokenMessage(value: unknown): string | undefined {
  try {
    return checkProgressMessage(value);
  } catch {
    return undefined;
  }
}

/**
 * POSTs the signed cancel event (same secret and scheme as a dispatch). Short: at most
 * `timeoutMs` per attempt and within the request's budget; repeated once, only after a 5xx or a
 * refused connection (a repeat carries the same webhook-id, so a backend can drop it).
 */
export async function sendCancelEvent(
  url: string,
  secret: string,
  event: CancelEvent,
  timeoutMs: number,
): Promise<CancelDelivery> {
  const body = JSON.stringify(event);
  const id = `msg_cancel_${event.jobId}`;
  let status = 0;
  for (let attempt = 1; attempt <= 2; attempt++) {
    const allowedMs = Math.floor(Math.min(timeoutMs, budgetLeft() - AFTER_CANCEL_RESERVE_MS));
    if (allowedMs < MIN_BACKEND_CALL_MS.other) break;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signBody(secret, body, Date.now(), id) },
        body,
        signal: AbortSignal.timeout(allowedMs),
      });
      await response.arrayBuffer().catch(() => undefined);
      status = response.status;
      if (response.status < 500) break;
    } catch (error) {
      const name = (error as Error).name;
      status = 0;
      if (name === 'TimeoutError' || name === 'AbortError') break;
    }
  }
  return { ok: status >= 200 && status < 300, status };
}
