import type { FinalJobStatus, JobError, JobStatus } from '../contracts';

/** How the job's work gets done and how we learn it finished. */
export type JobMode = 'push' | 'poll' | 'simulated';

/** Where a result too big for the job document lives (chunk documents, written before finalizing). */
export interface ResultChunks {
  prefix: string;
  count: number;
  bytes: number;
}

/** Who finalized the job; kept for the logs and the tests. */
export type FinishedBy = 'dispatch' | 'callback' | 'poll' | 'simulated' | 'deadline' | 'hangup';

/** The caller on hold for this job: what a completion needs to release them with no lookup. */
export interface HeldCall {
  callSid: string;
  /** The flow the caller returns to (the after-hold URL hands the call back to it). */
  flowSid: string;
}

export type CancelNotice = 'pending';

/**
 * Where the outcome goes when the flow did not wait for it (START_NOTIFY_PARAMS): a new
 * execution of this flow, to this contact, from this address. Set only on push-mode jobs, and
 * only by the /jobs/start that answered the flow `delivery: "execution"`.
 */
export interface NotifyTarget {
  flowSid: string;
  to: string;
  from: string;
}

/** Why an attempt to start the delivery execution did not. */
export interface DeliveryError {
  code: string;
  message: string;
  /** Studio may have started the execution anyway (its answer was lost): look before starting another. */
  unsure?: boolean;
}

/**
 * How handing a final job's outcome to Studio goes (jobs with `notify` only). Written on the
 * final job: these are the only writes a final job gets, each with If-Match.
 */
export interface DeliveryRecord {
  state: 'pending' | 'delivered';
  /** Attempts to start the execution so far (a claim counts as one). */
  attempts: number;
  executionSid?: string;
  lastError?: DeliveryError;
  /**
   * Epoch ms: the request that wrote this claim is starting the execution now, and nobody else
   * may until then (longer than a Function can live). Cleared when that request writes its result.
   */
  claimedUntil?: number;
  /** When the latest attempt began. */
  attemptedAt?: number;
  /** Set on a claim when an earlier attempt may have started an execution: its creation time to look from. */
  lookSince?: number;
}

/** The job document kept in Sync, one per job. Times are epoch milliseconds. */
export interface JobRecord {
  v: 1;
  jobId: string;
  status: JobStatus;
  /** SHA-256 of the canonical input: the same key with other input is refused. */
  inputHash: string;
  /**
   * Random per /jobs/start request: when a create's reply is lost and its retry finds the name
   * taken, this tells "my own write landed" from "another start made this job".
   */
  createId?: string;
  createdAt: number;
  deadline: number;
  mode: JobMode;
  /** Poll mode: the backend's status URL and its Retry-After in seconds. */
  statusUrl?: string;
  pollEverySeconds?: number;
  /** The backend's latest heartbeat: 0-100 and its message (spoken on hold), and when it was stored. */
  progress?: number;
  message?: string;
  heartbeatAt?: number;
  /** What the hold loop says (START_HOLD_PARAMS): every N turns, in this voice and language. */
  progressEveryTurns?: number;
  progressVoice?: string;
  progressLanguage?: string;
  /** Where the cancel event goes (the dispatch answer's cancelUrl); BACKEND_URL when absent. */
  cancelUrl?: string;
  /**
   * `pending`: this job ended CANCELLED or TIMED_OUT with a backend that may be working on it, and
   * the request whose final write this is sends it the cancel event, right after the write. Kept
   * in the final write itself: a final job's outcome is never written again (only `delivery`
   * bookkeeping is, on jobs with `notify`), so how the POST went is in that request's log only.
   */
  cancelNotice?: CancelNotice;
  /** Simulated mode: when the work is done and how it ends. */
  readyAt?: number;
  simulateFailure?: boolean;
  result?: Record<string, unknown>;
  resultChunks?: ResultChunks;
  /** SHA-256 of the result's stable JSON: tells a duplicate completion from a conflicting one. */
  resultHash?: string;
  error?: JobError;
  finishedAt?: number;
  finishedBy?: FinishedBy;
  /** Set by /hold when the caller is put on hold (their CallSid arrives with it). */
  caller?: HeldCall;
  /** Messaging: the execution that gets the outcome (START_NOTIFY_PARAMS), once /jobs/start promised it. */
  notify?: NotifyTarget;
  /** Messaging: handing the outcome to that execution; set by the final write itself. */
  delivery?: DeliveryRecord;
}

export interface VersionedJob {
  job: JobRecord;
  revision: string;
}

/** How a job ends. */
export interface JobOutcome {
  status: FinalJobStatus;
  result?: Record<string, unknown>;
  error?: JobError;
  by: FinishedBy;
}
