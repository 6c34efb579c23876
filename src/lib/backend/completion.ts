import { CALLBACK_PARAMS, LIMITS, type CompletionRequest, type HeartbeatRequest } from '../contracts';
import { HttpError, invalidParameter } from '../http/errors';
import { callerParams, type RuntimeEvent } from '../http/handler';
import { optionalNumber, requireJobId } from '../http/params';
import { isCompletionToken } from './completion-token';

/**
 * Checks the capability of a completion: the callbackUrl's token must have been minted for the
 * job it names. 401 otherwise, before anything else is read: a caller without it learns nothing.
 */
export function verifyCompletionToken(event: RuntimeEvent, secrets: readonly string[]): string {
  const params = callerParams(event);
  const token = params[CALLBACK_PARAMS.token];
  const jobId = params[CALLBACK_PARAMS.jobId];
  if (typeof token !== 'string' || token === '' || typeof jobId !== 'string' || jobId === '') {
    throw new HttpError(
      'INVALID_TOKEN',
      'completion rejected: POST it to the callbackUrl of the dispatch exactly as given (it carries jobId and token)',
    );
  }
  if (secrets.length === 0 || !isCompletionToken(secrets, jobId, token)) {
    throw new HttpError('INVALID_TOKEN', 'completion rejected: the token is not valid for this job');
  }
  return requireJobId(params);
}

/** What a POST to the callbackUrl carries: the outcome, or a heartbeat while the work goes on. */
export type CallbackRequest =
  | { kind: 'completion'; request: CompletionRequest }
  | { kind: 'heartbeat'; request: HeartbeatRequest & { jobId: string } };

/** Control characters (C0, DEL, C1) and line/paragraph separators: never in a spoken message. */
const UNSPEAKABLE = /[\p{Cc}\u2028\u2029]/u;

/**
 * A progress message as the caller will hear it: a string of at most
 * LIMITS.progressMessageChars characters with no control characters. Returns undefined for an
 * absent or blank one; throws a 400 naming the problem otherwise.
 */
export function checkProgressMessage(raw: unknown): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'string') throw invalidParameter('message must be a string');
  const message = raw.trim();
  if (message === '') return undefined;
  if (message.length > LIMITS.progressMessageChars) {
    throw invalidParameter(
      `message is ${message.length} characters; at most ${LIMITS.progressMessageChars} are spoken to the caller`,
    );
  }
  const bad = UNSPEAKABLE.exec(message);
  if (bad) {
    const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    throw invalidParameter(
      `message contains the control character U+${code} at position ${bad.index}; send plain text on one line`,
    );
  }
  return message;
}

function parseHeartbeat(params: Record<string, unknown>, jobId: string): HeartbeatRequest & { jobId: string } {
  if (params.result !== undefined || params.error !== undefined) {
    throw invalidParameter('a PENDING heartbeat carries progress, message or extendSeconds, not result or error');
  }
  const progress = optionalNumber(params, 'progress', { min: 0, max: 100 });
  const extendSeconds = optionalNumber(params, 'extendSeconds', { min: 1, max: LIMITS.maxHoldSeconds, integer: true });
  const message = checkProgressMessage(params.message);
  return {
    jobId,
    status: 'PENDING',
    ...(progress !== undefined ? { progress } : {}),
    ...(message !== undefined ? { message } : {}),
    ...(extendSeconds !== undefined ? { extendSeconds } : {}),
  };
}

/** Checks the body's shape (after the token: callers without it learn nothing). */
export function parseCallback(event: RuntimeEvent, jobId: string): CallbackRequest {
  const params = callerParams(event);
  if (params.status === 'PENDING') return { kind: 'heartbeat', request: parseHeartbeat(params, jobId) };
  return { kind: 'completion', request: parseCompletion(event, jobId) };
}

/** Checks the completion body's shape (after the token: callers without it learn nothing). */
export function parseCompletion(event: RuntimeEvent, jobId: string): CompletionRequest {
  const params = callerParams(event);
  const { status } = params;
  if (status !== 'COMPLETED' && status !== 'FAILED')
    throw invalidParameter('status must be COMPLETED, FAILED or PENDING (a heartbeat)');
  if (status === 'FAILED' && params.result !== undefined)
    throw invalidParameter('a FAILED completion carries error, not result');
  if (
    params.error !== undefined &&
    typeof params.error !== 'string' &&
    (typeof params.error !== 'object' || params.error === null || Array.isArray(params.error))
  ) {
    throw invalidParameter('error must be a string or an object {code, message}');
  }
  return { jobId, status, result: params.result, error: params.error as CompletionRequest['error'] };
}
