/**
 * Twilio REST failures as the helper library throws them (RestException) or as transport errors.
 * Our own refusals are not among them: the HTTP edge tells those apart first (http/errors.ts
 * `twilioTrouble`), since an HttpError also has a numeric status.
 */
interface RestFailure {
  status?: number;
  code?: number;
  message?: string;
}

/** A Twilio call that could not start (or finish) inside the invocation's budget (runtime/budget.ts). */
export class BudgetExhaustedError extends Error {
  override readonly name = 'BudgetExhaustedError';
}

function asRestFailure(error: unknown): RestFailure | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const candidate = error as RestFailure;
  return typeof candidate.status === 'number' || typeof candidate.code === 'number' ? candidate : undefined;
}

/** True when Twilio answered with this error code (e.g. 54301 unique name taken). */
export function hasTwilioCode(error: unknown, code: number): boolean {
  return asRestFailure(error)?.code === code;
}

/** Worth retrying: rate limited (429/54009) or Twilio-side trouble (5xx) or no answer. */
export function isRetryableTwilioFailure(error: unknown): boolean {
  const failure = asRestFailure(error);
  if (failure?.status !== undefined) return failure.status === 429 || failure.status >= 500;
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && /^(ECONNRESET|ECONNREFUSED|ETIMEDOUT|ECONNABORTED|EPIPE|EAI_AGAIN)$/.test(code);
}

/**
 * Failed before Twilio could act on it: rate limited, or no connection made. Only these are
 * repeated for a call that must not happen twice (a Call redirect repeated after it landed
 * would take the caller away from wherever the first one sent them).
 */
export function isUnprocessedTwilioFailure(error: unknown): boolean {
  const failure = asRestFailure(error);
  if (failure?.status !== undefined) return failure.status === 429;
  const code = (error as { code?: unknown })?.code;
  return code === 'ECONNREFUSED';
}

/** A one-line description when the error came from talking to Twilio, else undefined. */
export function describeTwilioFailure(error: unknown): string | undefined {
  // The request's time budget ran out while Twilio was slow.
  if (error instanceof BudgetExhaustedError) return error.message;
  const failure = asRestFailure(error);
  if (failure?.status !== undefined)
    return `HTTP ${failure.status} code ${failure.code ?? '-'}: ${failure.message ?? ''}`.trim();
  if (isRetryableTwilioFailure(error)) return (error as Error).message;
  return undefined;
}
