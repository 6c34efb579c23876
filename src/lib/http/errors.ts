import { ERROR_CODES, type ErrorCode } from '../contracts';
import {
  DeliveryPending,
  IdempotencyConflict,
  JobAlreadyFinal,
  JobNotFound,
  JobRefusal,
  ResultTooLarge,
} from '../jobs/errors';
import { describeTwilioFailure } from '../twilio/errors';

/** A failure the caller should see as `{error: {code, message}}` with the code's HTTP status. */
export class HttpError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** For a 503 the caller should repeat: seconds to wait (the reply's Retry-After and `retryAfter`). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.status = ERROR_CODES[code];
  }
}

export const invalidParameter = (message: string) => new HttpError('INVALID_PARAMETER', message);

/** The error code each refusal of the job domain (jobs/errors.ts) is answered with. */
function codeOf(refusal: JobRefusal): ErrorCode {
  if (refusal instanceof JobNotFound) return 'JOB_NOT_FOUND';
  if (refusal instanceof IdempotencyConflict) return 'IDEMPOTENCY_CONFLICT';
  if (refusal instanceof JobAlreadyFinal) return 'JOB_ALREADY_FINAL';
  if (refusal instanceof ResultTooLarge) return 'PAYLOAD_TOO_LARGE';
  if (refusal instanceof DeliveryPending) return 'DELIVERY_PENDING';
  return 'INTERNAL';
}

/** What the caller is answered for `error` when it is an answer of ours: an HttpError, or a refusal of the job domain. */
export function httpErrorOf(error: unknown): HttpError | undefined {
  if (error instanceof HttpError) return error;
  if (!(error instanceof JobRefusal)) return undefined;
  return new HttpError(
    codeOf(error),
    error.message,
    error instanceof DeliveryPending ? error.retryAfterSeconds : undefined,
  );
}

/** A one-line description when `error` is trouble talking to Twilio (and not an answer of ours), else undefined. */
export function twilioTrouble(error: unknown): string | undefined {
  return httpErrorOf(error) ? undefined : describeTwilioFailure(error);
}
