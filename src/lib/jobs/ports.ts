/**
 * What the job domain needs from the world, as ports: JobService takes one of each, and
 * services.ts wires the implementations (Sync, Voice, the HTTP backend, Studio, the wall clock).
 * The domain itself imports neither `twilio` nor anything of the HTTP edge.
 */
import type { CancelEvent, DispatchRequest, FinalJobStatus, FlowDeliveryData } from '../contracts';
import type { DeliveryError, HeldCall, JobOutcome, JobRecord, NotifyTarget, ResultChunks, VersionedJob } from './job';

export type CreateOutcome = { created: true; current: VersionedJob } | { created: false; current: VersionedJob };

/** Where jobs live: one document per job, every change guarded by its revision (store/job-store.ts: Sync). */
export interface JobStore {
  /**
   * Creates the job, or returns the one already under its id (an idempotent start). `created`
   * is also true when the job found is this very create's (its createId), whose reply was lost.
   */
  create(job: JobRecord): Promise<CreateOutcome>;
  get(jobId: string): Promise<VersionedJob | undefined>;
  /** Writes `next` if the job is still at `current.revision`; 'conflict' when another write landed first. */
  replace(current: VersionedJob, next: JobRecord): Promise<VersionedJob | 'conflict'>;
  /** True when a result (its JSON) is too large for the job document and goes to chunk documents. */
  needsChunks(resultJson: string): boolean;
  /** Writes a large result under names unique to `attempt`, before the final write that points at them. */
  writeResultChunks(jobId: string, resultJson: string, attempt: string): Promise<ResultChunks>;
  /** The job's result object, from the job document or its chunks. */
  readResult(job: JobRecord): Promise<Record<string, unknown> | undefined>;
}

/**
 * How a release went: `moved` (the call now runs the after-hold URL), `gone` (the call is over:
 * nothing to release), `room-ended` (the call update failed, ending the room did it), `failed`.
 */
export type ReleaseOutcome = 'moved' | 'gone' | 'room-ended' | 'failed';

/** What the job service needs from Voice while a caller is on hold (voice/hold-voice.ts). */
export interface HoldVoice {
  /** Moves the caller out of the hold to the after-hold URL, which returns them to Studio with `status`. */
  release(
    jobId: string,
    call: Partial<HeldCall> & { callSid: string },
    status: FinalJobStatus,
  ): Promise<ReleaseOutcome>;
  /** true: the call is over (the caller hung up); false: it is still up; undefined: could not tell. */
  callEnded(callSid: string): Promise<boolean | undefined>;
}

/** What the backend's answer to a dispatch means for the job. */
export type DispatchResult =
  | { kind: 'accepted'; cancelUrl?: string }
  | { kind: 'poll'; statusUrl: string; retryAfterSeconds: number; cancelUrl?: string }
  | { kind: 'finished'; outcome: JobOutcome }
  | { kind: 'unconfirmed'; reason: string };

/** What a poll-mode backend's statusUrl said. */
export type PollResult =
  | { kind: 'pending'; retryAfterSeconds: number; progress?: number; message?: string }
  | { kind: 'finished'; outcome: JobOutcome }
  | { kind: 'unreachable'; reason: string };

/** How a cancel event went: the backend's HTTP status (0 when it did not answer). */
export interface CancelDelivery {
  ok: boolean;
  status: number;
}

/** The backend doing the job's work (BACKEND_URL; backend/http-backend.ts), each call within the request's budget. */
export interface Backend {
  /** Hands the job to the backend; its answer decides the job's mode. */
  dispatch(request: DispatchRequest): Promise<DispatchResult>;
  /** Asks a poll-mode backend how the job stands. */
  poll(statusUrl: string): Promise<PollResult>;
  /** Tells the backend the job ended without its work: to the job's cancelUrl, else to the backend's own URL. */
  cancel(event: CancelEvent, cancelUrl: string | undefined): Promise<CancelDelivery>;
}

export type ExecutionAttempt =
  { ok: true; executionSid: string } | { ok: false; error: DeliveryError; retryAfterSeconds: number };

/** What the job service needs from Studio to hand an outcome to a flow that did not wait for it (messaging/flow-delivery.ts). */
export interface FlowDelivery {
  /** Starts an execution of the flow for the contact, with `data` as its flow.data. */
  startExecution(target: NotifyTarget, data: FlowDeliveryData): Promise<ExecutionAttempt>;
  /** The execution an earlier attempt for this job started (its answer was lost), if there is one. */
  findExecution(target: NotifyTarget, jobId: string, createdSince: number): Promise<string | undefined>;
}

/** Time, as the domain sees it (runtime/clock.ts: the wall clock; tests: a manual one). */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  sleep(ms: number): Promise<void>;
}
