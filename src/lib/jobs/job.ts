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
   * in the final write itself: a final job is never written again, so how the POST went is in
   * that request's log only.
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
