/**
 * The public contracts: what Studio flows and backends see. Everything a flow or a backend
 * relies on (paths, parameter names, reply shapes, statuses, error codes, limits) is named here
 * and nowhere else; the voice hold loop's URLs and what Voice sends it are beside it, in
 * contracts-voice.ts.
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
  /** The default HOLD_MUSIC_PATH (an asset of this service). */
  holdMusic: '/hold-music.wav',
} as const;

/** Query parameters of a job's callbackUrl (the capability: jobId plus a token bound to it). */
export const CALLBACK_PARAMS = { jobId: 'jobId', token: 'token' } as const;

/** The `type` of the event body the service POSTs when a pending job is cancelled or times out. */
export const CANCEL_EVENT_TYPE = 'job.cancelled';

/** Parameters of /jobs/start that steer the job instead of being part of its input. */
export const START_CONTROL_PARAMS = ['idempotencyKey', 'wait', 'maxHoldSeconds'] as const;

/**
 * Optional /jobs/start parameters for what the hold loop says while the caller waits; like
 * START_CONTROL_PARAMS they are not part of the job input. `progressEveryTurns` (0-100, default
 * PROGRESS_EVERY_TURNS, 0 = never) speaks the backend's latest message (or its progress) every N
 * turns of the hold loop, in `progressVoice` and `progressLanguage` (a Say widget's `voice` and
 * `language`). Named apart from `voice`/`language` so a job input of that name still reaches the
 * backend.
 */
export const START_HOLD_PARAMS = ['progressEveryTurns', 'progressVoice', 'progressLanguage'] as const;

/**
 * Optional /jobs/start parameters of a messaging flow that does not wait for the outcome: the
 * flow to run again (`{{flow.flow_sid}}`), the contact (`{{contact.channel.address}}`) and the
 * flow's own address (`{{flow.channel.address}}`). All three or none. With them, a push-mode job
 * still pending when /jobs/start answers is delivered by a new execution of that flow (Studio's
 * REST API, trigger `incomingRequest`, `flow.data` = FlowDeliveryData); the start reply then says
 * `delivery: "execution"`. Not part of the job input, like START_CONTROL_PARAMS.
 */
export const START_NOTIFY_PARAMS = ['notifyFlowSid', 'notifyTo', 'notifyFrom'] as const;

/**
 * How the outcome of a job still pending when /jobs/start answers reaches a flow that passed
 * START_NOTIFY_PARAMS: `execution`, the service starts a new execution of that flow with it (the
 * flow may end now); `wait`, nothing will (poll and simulated modes: the flow asks /jobs/status).
 */
export type Delivery = 'execution' | 'wait';

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
  /** Longest progress message a backend may send (it is spoken to the caller). */
  progressMessageChars: 200,
  /** A job document takes at most one heartbeat per this many milliseconds; more are acknowledged, not stored. */
  heartbeatMinIntervalMs: 1000,
  /** Longest hold-loop gap between progress phrases, in turns. */
  progressEveryTurns: 100,
  /** Longest notifyTo / notifyFrom (a phone number, `whatsapp:+…`, a Messaging Service SID). */
  notifyAddressChars: 64,
  /** Longest CallSid /jobs/start takes as the idempotency key when none is given (a voice flow's call). */
  callSidChars: 64,
  /** Longest name of a /jobs/start parameter that goes into the job input. */
  inputNameChars: 100,
  /**
   * A job document outlives the longest hold by at least this (JOB_TTL_SECONDS minus this caps
   * maxHoldSeconds and a heartbeat's extendSeconds), so a job never expires while a caller waits.
   */
  holdTtlMarginSeconds: 300,
} as const;

/**
 * The built-in simulated backend (no BACKEND_URL): job input it reads to try the fast and
 * failing paths. `simulateSeconds` (0 to maxSeconds) is how long the work takes, instead of
 * SIMULATED_WORK_SECONDS; `simulateFailure=true` ends the job FAILED with
 * JOB_ERROR_CODES.simulatedFailure. Both stay part of the job input.
 */
export const SIMULATED_BACKEND = {
  secondsParam: 'simulateSeconds',
  failureParam: 'simulateFailure',
  maxSeconds: 3600,
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
  /**
   * Only when the start carried START_NOTIFY_PARAMS: who hands the outcome to the flow. Branch on
   * it before `status`: `execution` means a new execution brings the outcome (also when this
   * reply already shows a final status: that execution owns the delivery), so send nothing more.
   */
  delivery?: Delivery;
}

/**
 * `flow.data` of the execution the service starts for a job with START_NOTIFY_PARAMS (the
 * Executions API's `Parameters`); `result` as the backend sent it (at most LIMITS.resultBytes).
 */
export interface FlowDeliveryData {
  jobId: string;
  status: FinalJobStatus;
  result?: Record<string, unknown>;
  error?: JobError;
}

/** Reply of /jobs/status. */
export interface StatusReply {
  jobId: string;
  status: JobStatus;
  retryAfter: number;
  /** 0-100 while pending, when the backend reported it (a heartbeat or a poll). */
  progress?: number;
  /** The backend's latest progress message while pending (heartbeat). */
  message?: string;
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
  /** Seconds to wait before sending the same request again (503s; also the Retry-After header). */
  retryAfter?: number;
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

/**
 * A heartbeat: the backend POSTs (JSON) to the job's callbackUrl while it works. Every field is
 * optional; `extendSeconds` moves the deadline to at least now + extendSeconds (never earlier,
 * never past LIMITS.maxHoldSeconds after the job was created). At most one heartbeat a second is
 * stored per job; another within that second is acknowledged with `stored: false`.
 */
export interface HeartbeatRequest {
  jobId?: string;
  status: 'PENDING';
  progress?: number;
  message?: string;
  extendSeconds?: number;
}

/** Reply to a heartbeat. */
export interface HeartbeatReply {
  jobId: string;
  status: 'PENDING';
  accepted: true;
  /** false: another heartbeat was stored less than a second ago; this one was not written. */
  stored: boolean;
  /** ISO 8601: the job's deadline after this heartbeat. */
  deadline: string;
}

/**
 * What the service POSTs (signed like a dispatch) when a pending job ends without its work: the
 * caller hung up (CANCELLED) or the deadline passed (TIMED_OUT). To the dispatch answer's
 * `cancelUrl` when it gave one, else to BACKEND_URL. Sent once, by the request that ended the job.
 */
export interface CancelEvent {
  type: 'job.cancelled';
  jobId: string;
  status: 'CANCELLED' | 'TIMED_OUT';
  /** The job's error code: CALLER_HUNG_UP or TIMED_OUT. */
  reason: string;
  /** ISO 8601: when the job ended. */
  at: string;
}

/** What a poll-mode backend's statusUrl answers. */
export interface BackendStatusReply {
  status: 'PENDING' | 'COMPLETED' | 'FAILED';
  result?: unknown;
  error?: JobError | string;
  progress?: number;
  /** Spoken on hold like a heartbeat's message (not stored). */
  message?: string;
}

/** Error codes in `{error: {code}}` replies, with their HTTP status. */
export const ERROR_CODES = {
  INVALID_PARAMETER: 400,
  INVALID_TOKEN: 401,
  JOB_NOT_FOUND: 404,
  JOB_ALREADY_FINAL: 409,
  PAYLOAD_TOO_LARGE: 413,
  IDEMPOTENCY_CONFLICT: 422,
  TWILIO_UNAVAILABLE: 503,
  /** The job is final but its outcome could not be handed to Studio yet: send the same body again. */
  DELIVERY_PENDING: 503,
  MISCONFIGURED: 500,
  INTERNAL: 500,
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

/** Codes a job's own `error` carries (the job failed; the HTTP request did not). */
export const JOB_ERROR_CODES = {
  backendFailed: 'BACKEND_FAILED',
  backendRejected: 'BACKEND_REJECTED',
  timedOut: 'TIMED_OUT',
  callerHungUp: 'CALLER_HUNG_UP',
  /** The simulated backend was asked to fail (SIMULATED_BACKEND.failureParam). */
  simulatedFailure: 'SIMULATED_FAILURE',
} as const;
