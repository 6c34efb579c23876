/**
 * The public contracts: what Studio flows and backends see. Everything a flow or a backend
 * relies on (paths, parameter names, reply shapes, statuses, error codes, limits) is named here
 * and nowhere else.
 */

export const JOB_STATUSES = ['PENDING', 'COMPLETED', 'FAILED', 'TIMED_OUT', 'CANCELLED'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export type FinalJobStatus = Exclude<JobStatus, 'PENDING'>;

export function isFinalStatus(status: JobStatus): status is FinalJobStatus {
  return status !== 'PENDING';
}

/** Function paths (fixed: flows and backends are wired to them). */
export const PATHS = {
  start: '/jobs/start',
  status: '/jobs/status',
  result: '/jobs/result',
  complete: '/jobs/complete',
  hold: '/hold',
  holdWait: '/hold/wait',
  holdEvents: '/hold/events',
  holdMusic: '/hold-music.wav',
} as const;

/** Query parameters of a job's callbackUrl (the capability: jobId plus a token bound to it). */
export const CALLBACK_PARAMS = { jobId: 'jobId', token: 'token' } as const;

/** Parameters of /jobs/start that steer the job instead of being part of its input. */
export const START_CONTROL_PARAMS = ['idempotencyKey', 'wait', 'maxHoldSeconds'] as const;

/** Studio's hard walls and the margins we keep inside them. */
export const LIMITS = {
  /** Studio parses at most 64 KB; replies stay below with room for the envelope. */
  studioReplyBytes: 64 * 1024,
  /** Largest result (JSON bytes) a backend may hand us; fits a Studio reply with its envelope. */
  resultBytes: 60 * 1024,
  /** Largest job input (JSON bytes) accepted by /jobs/start. */
  inputBytes: 8 * 1024,
  /** Longest fast-finish wait /jobs/start accepts, so its reply stays well under 10 s. */
  startWaitSeconds: 5,
  /** Longest long-poll of /jobs/status. */
  statusWaitSeconds: 8,
  /** Longest hold a start may ask for (Studio's TwiML Redirect timeout tops out at 14400). */
  maxHoldSeconds: 3600,
  minHoldSeconds: 10,
  idempotencyKeyLength: 256,
  /** Standard Webhooks tolerance for webhook-timestamp. */
  signatureToleranceSeconds: 5 * 60,
} as const;

export interface JobError {
  code: string;
  message: string;
}

/** Reply of /jobs/start. */
export interface StartReply {
  jobId: string;
  status: JobStatus;
  retryAfter: number;
  statusUrl: string;
  result?: Record<string, unknown>;
  error?: JobError;
}

/** Reply of /jobs/status. */
export interface StatusReply {
  jobId: string;
  status: JobStatus;
  retryAfter: number;
  progress?: number;
  error?: JobError;
}

/** Reply of /jobs/result: `result` is always an object so Studio parses it. */
export interface ResultReply {
  jobId: string;
  status: JobStatus;
  result?: Record<string, unknown>;
  error?: JobError;
}

/** Error body of every 4xx/5xx reply. */
export interface ErrorReply {
  error: JobError;
}

/** What /jobs/start POSTs to BACKEND_URL (signed). */
export interface DispatchRequest {
  jobId: string;
  input: Record<string, unknown>;
  /**
   * Where the completion goes: a capability URL for this job only (`/jobs/complete?jobId=…&token=…`).
   * POST plain JSON (CompletionRequest) to it exactly as given; no signature is needed.
   */
  callbackUrl: string;
  /** ISO 8601: after this the caller has been released and a completion is refused. */
  deadline: string;
}

/**
 * What the backend POSTs (JSON) to the job's callbackUrl. `jobId` may be left out; when given it
 * must be the job the URL names. No body key may be named `token` (it would hide the URL's).
 */
export interface CompletionRequest {
  jobId: string;
  status: 'COMPLETED' | 'FAILED';
  result?: unknown;
  error?: JobError | string;
}

/** What a poll-mode backend's statusUrl answers. */
export interface BackendStatusReply {
  status: 'PENDING' | 'COMPLETED' | 'FAILED';
  result?: unknown;
  error?: JobError | string;
  progress?: number;
}

/** Error codes in `{error: {code}}` replies, with their HTTP status. */
export const ERROR_CODES = {
  INVALID_PARAMETER: 400,
  INVALID_TOKEN: 401,
  JOB_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  JOB_ALREADY_FINAL: 409,
  PAYLOAD_TOO_LARGE: 413,
  IDEMPOTENCY_CONFLICT: 422,
  TWILIO_UNAVAILABLE: 503,
  MISCONFIGURED: 500,
  INTERNAL: 500,
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

/** Codes a job's own `error` carries (the job failed; the HTTP request did not). */
export const JOB_ERROR_CODES = {
  backendFailed: 'BACKEND_FAILED',
  backendRejected: 'BACKEND_REJECTED',
  backendUnavailable: 'BACKEND_UNAVAILABLE',
  timedOut: 'TIMED_OUT',
  callerHungUp: 'CALLER_HUNG_UP',
} as const;
