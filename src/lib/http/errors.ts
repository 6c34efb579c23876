import { ERROR_CODES, type ErrorCode } from '../contracts';

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
