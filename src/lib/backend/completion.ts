import { CALLBACK_PARAMS, type CompletionRequest } from '../contracts';
import { HttpError, invalidParameter } from '../http/errors';
import { callerParams, type RuntimeEvent } from '../http/handler';
import { requireJobId } from '../http/params';
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
    throw new HttpError('INVALID_TOKEN', 'completion rejected: POST it to the callbackUrl of the dispatch exactly as given (it carries jobId and token)');
  }
  if (secrets.length === 0 || !isCompletionToken(secrets, jobId, token)) {
    throw new HttpError('INVALID_TOKEN', 'completion rejected: the token is not valid for this job');
  }
  return requireJobId(params);
}

/** Checks the completion body's shape (after the token: callers without it learn nothing). */
export function parseCompletion(event: RuntimeEvent, jobId: string): CompletionRequest {
  const params = callerParams(event);
  const { status } = params;
  if (status !== 'COMPLETED' && status !== 'FAILED') throw invalidParameter('status must be COMPLETED or FAILED');
  if (status === 'FAILED' && params.result !== undefined) throw invalidParameter('a FAILED completion carries error, not result');
  if (params.error !== undefined && typeof params.error !== 'string' && (typeof params.error !== 'object' || params.error === null || Array.isArray(params.error))) {
    throw invalidParameter('error must be a string or an object {code, message}');
  }
  return { jobId, status, result: params.result, error: params.error as CompletionRequest['error'] };
}
