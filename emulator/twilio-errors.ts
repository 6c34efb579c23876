/** Twilio's REST error body `{code, message, more_info, status}` and the codes the emulator uses. */

export interface TwilioErrorBody {
  code: number;
  message: string;
  more_info: string;
  status: number;
  details?: Record<string, unknown>;
}

export function twilioErrorBody(
  status: number,
  code: number,
  message: string,
  details?: Record<string, unknown>,
): TwilioErrorBody {
  const body: TwilioErrorBody = { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
  if (details) body.details = details;
  return body;
}

/** Thrown by handlers; the pipeline turns it into a Twilio error reply. */
export class TwilioApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'TwilioApiError';
  }

  body(): TwilioErrorBody {
    return twilioErrorBody(this.status, this.code, this.message, this.details);
  }
}

/** Error codes as Twilio documents them (twilio.com/docs/api/errors/<code>). */
export const ErrorCode = {
  /** Generic invalid parameter; also used for SPEC_VIOLATION replies. */
  invalidParameter: 20001,
  authenticationMissing: 20003,
  notFound: 20404,
  /** Too many requests (429) outside Sync. */
  tooManyRequests: 20429,
  internal: 20500,
  serviceUnavailable: 20503,
  syncEntityTooLarge: 54006,
  syncInvalidJson: 54008,
  /** Sync object rate limit: 20 writes/s per document (2/s from 10 KiB); also injected as a fault. */
  syncRateLimited: 54009,
  syncInvalidTtl: 54011,
  syncDocumentNotFound: 54100,
  syncRevisionMismatch: 54103,
  syncUniqueNameTaken: 54301,
  unexpectedConferenceStatus: 16099,
  callNotInProgress: 21220,
} as const;

export const SPEC_VIOLATION_PREFIX = 'SPEC_VIOLATION: ';
