import type { CompletionRequest } from '../contracts';
import { HttpError, invalidParameter } from '../http/errors';
import { header, type RuntimeEvent, callerParams } from '../http/handler';
import { requireJobId } from '../http/params';
import { verifyBody } from './signing';

/**
 * The runtime hands functions the parsed body, never its bytes, so the signed body is rebuilt
 * as compact JSON in the order the fields arrived. Backends must therefore sign and send
 * compact JSON (what JSON.stringify writes); README "Backend contract" says so.
 */
export function canonicalBody(event: RuntimeEvent): string {
  return JSON.stringify(callerParams(event));
}

/** Verifies the Standard Webhooks signature; 401 names what was wrong. Returns the webhook-id. */
export function verifyCompletionSignature(event: RuntimeEvent, secrets: readonly string[]): string {
  const verification = verifyBody(secrets, canonicalBody(event), {
    'webhook-id': header(event, 'webhook-id'),
    'webhook-timestamp': header(event, 'webhook-timestamp'),
    'webhook-signature': header(event, 'webhook-signature'),
  });
  if (!verification.ok) throw new HttpError('INVALID_SIGNATURE', `completion rejected: ${verification.reason}`);
  return verification.webhookId;
}

/** Checks the completion body's shape (after the signature: unsigned requests learn nothing). */
export function parseCompletion(event: RuntimeEvent): CompletionRequest {
  const params = callerParams(event);
  const jobId = requireJobId(params);
  const { status } = params;
  if (status !== 'COMPLETED' && status !== 'FAILED') throw invalidParameter('status must be COMPLETED or FAILED');
  if (status === 'FAILED' && params.result !== undefined) throw invalidParameter('a FAILED completion carries error, not result');
  if (params.error !== undefined && typeof params.error !== 'string' && (typeof params.error !== 'object' || params.error === null || Array.isArray(params.error))) {
    throw invalidParameter('error must be a string or an object {code, message}');
  }
  return { jobId, status, result: params.result, error: params.error as CompletionRequest['error'] };
}
