import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CANCEL_EVENT_TYPE,
  isFinalStatus,
  JOB_ERROR_CODES,
  LIMITS,
  type CancelEvent,
  type CompletionRequest,
  type Delivery,
  type FinalJobStatus,
  type HeartbeatRequest,
} from '../contracts';
import type { ServiceConfig } from '../config';
import { budgetLeft, finishBeforeReply } from '../http/budget';
import { HttpError } from '../http/errors';
import { dispatchToBackend, pollBackend, sendCancelEvent } from '../backend/http-backend';
import { normalizeError, normalizeResult, resultJsonWithinLimit } from '../backend/payload';
import { planSimulatedWork, simulatedOutcome } from '../backend/simulated';
import { firstClaim, OutcomeDelivery, type DeliveryStatus } from '../messaging/delivery';
import type { FlowDelivery } from '../messaging/flow-delivery';
import { JobStore } from '../store/job-store';
import type { HoldVoice, ReleaseOutcome } from '../voice/hold-voice';
import { jobIdForKey, randomJobId } from './job-id';
import type { HeldCall, JobOutcome, JobRecord, NotifyTarget, VersionedJob } from './job';
import { applyOutcome, dueTransition, sameOutcome, stableJson, timedOutOutcome } from './state';

export interface StartRequest {
  idempotencyKey?: string;
  input: Record<string, unknown>;
  maxHoldSeconds: number;
  waitSeconds: number;
  /** The job's capability URL for its completion. */
  callbackUrl: (jobId: string) => string;
  /** What the hold loop says while the caller waits (START_HOLD_PARAMS), kept on the job. */
  hold?: Pick<JobRecord, 'progressEveryTurns' | 'progressVoice' | 'progressLanguage'>;
  /** A messaging flow that does not wait (START_NOTIFY_PARAMS): where the outcome may go instead. */
  notify?: NotifyTarget;
}

export interface Started {
  current: VersionedJob;
  created: boolean;
  /** Only for a start with `notify`: who hands the outcome to the flow (StartReply.delivery). */
  delivery?: Delivery;
}

export interface Refreshed {
  current: VersionedJob;
  /** Progress and message a poll-mode backend reported just now (not stored: it would cost a write). */
  progress?: number;
  message?: string;
}

export interface HeartbeatResult {
  current: VersionedJob;
  /** false: a heartbeat was stored less than LIMITS.heartbeatMinIntervalMs ago, this one was not written. */
  stored: boolean;
}

export interface CompletionResult {
  current: VersionedJob;
  duplicate: boolean;
  /** A caller on hold was moved out by this completion. */
  released: boolean;
}

/** What a hold-loop request tells about the call (its CallSid, the flowSid in its URL). */
export type HeldCallHint = Partial<HeldCall>;

/** A completion this close to the deadline releases after its write: a deadline turn may race it. */
const RELEASE_RACE_WINDOW_MS = 5_000;
/** A turn leaves a job a completion finalized less than this ago to that completion's release. */
const COMPLETION_RELEASE_GRACE_MS = 3_000;

function definedFields<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Waiting for a pushed completion re-reads the job at this pace. */
const PUSH_WAIT_POLL_MS = 400;
const POLL_TIMEOUT_MS = 2000;
/** The wait for a fast finish ends this long before the request's budget, to read and reply. */
const AFTER_WAIT_RESERVE_MS = 2_500;

/** The job lifecycle: start, the clock's transitions, completion, hang-up. One instance per request. */
export class JobService {
  private readonly outcomes: OutcomeDelivery;
  /** Deliveries this request started with a final write it landed, by job. */
  private readonly deliveries = new Map<string, Promise<DeliveryStatus>>();

  constructor(
    private readonly config: ServiceConfig,
    private readonly store: JobStore,
    private readonly voice: HoldVoice,
    studio: FlowDelivery,
    private readonly now: () => number = Date.now,
  ) {
    this.outcomes = new OutcomeDelivery(store, studio, now);
  }

  /** Creates (or finds, for the same key and input) the job and dispatches its work. */
  async start(request: StartRequest): Promise<Started> {
    const inputHash = createHash('sha256').update(stableJson(request.input)).digest('base64url');
    const jobId = request.idempotencyKey ? jobIdForKey(this.config.jobIdSecret, request.idempotencyKey) : randomJobId();
    const now = this.now();
    const record: JobRecord = {
      v: 1,
      jobId,
      status: 'PENDING',
      inputHash,
      createdAt: now,
      deadline: now + request.maxHoldSeconds * 1000,
      mode: this.config.backendUrl ? 'push' : 'simulated',
      createId: randomBytes(8).toString('hex'),
      ...definedFields(request.hold ?? {}),
      ...(this.config.backendUrl ? {} : planSimulatedWork(request.input, this.config.simulatedWorkSeconds, now)),
    };
    const { created, current } = await this.store.create(record);
    if (!created) {
      if (current.job.inputHash !== inputHash) {
        throw new HttpError('IDEMPOTENCY_CONFLICT', `idempotencyKey was already used for job ${current.job.jobId} with different input`);
      }
      const found = (await this.refresh(current, { pollBackend: false })).current;
      return { ...(await this.promiseDelivery(found, request.notify)), created: false };
    }
    const dispatched = await this.dispatch(current, request);
    const waitUntil = now + Math.min(request.waitSeconds, LIMITS.startWaitSeconds) * 1000;
    return { ...(await this.promiseDelivery(await this.waitForFinish(dispatched, waitUntil), request.notify)), created: true };
  }

  /**
   * Decides, as /jobs/start answers, who hands the outcome to a flow that passed notify
   * parameters. A push-mode job still pending gets `notify` (one If-Match write): from then on
   * the request that makes it final starts an execution with the outcome. A job that is final
   * without it goes back in this reply (the flow sends it), and poll and simulated jobs are the
   * flow's to wait for: nothing on Twilio would run the service for them later. So each job is
   * delivered once, by the execution or by the flow.
   */
  private async promiseDelivery(current: VersionedJob, notify: NotifyTarget | undefined): Promise<{ current: VersionedJob; delivery?: Delivery }> {
    // A job an execution delivers says so to every start, so no flow sends it a second time.
    if (current.job.notify) return { current, delivery: 'execution' };
    if (!notify) return { current };
    for (let attempt = 0; attempt < 3; attempt++) {
      const { job } = current;
      if (job.notify) return { current, delivery: 'execution' };
      if (isFinalStatus(job.status)) return { current };
      if (job.mode !== 'push') return { current, delivery: 'wait' };
      const written = await this.store.replace(current, { ...job, notify });
      if (written !== 'conflict') return { current: written, delivery: 'execution' };
      // A completion (or another write) landed first: look again.
      current = await this.load(job.jobId);
    }
    // Still racing: the flow waits, which is always safe (no execution was promised).
    console.warn(`job ${current.job.jobId}: could not record the delivery target; the flow waits for the outcome`);
    return { current, ...(isFinalStatus(current.job.status) ? {} : { delivery: 'wait' as const }) };
  }

  private async dispatch(current: VersionedJob, request: StartRequest): Promise<VersionedJob> {
    const { backendUrl, webhookSecrets, dispatchTimeoutMs } = this.config;
    if (!backendUrl) return current;
    const answer = await dispatchToBackend(
      backendUrl,
      webhookSecrets[0]!,
      { jobId: current.job.jobId, input: request.input, callbackUrl: request.callbackUrl(current.job.jobId), deadline: new Date(current.job.deadline).toISOString() },
      dispatchTimeoutMs,
    );
    switch (answer.kind) {
      case 'finished':
        return (await this.finalize(current, answer.outcome)).current;
      case 'poll': {
        const next: JobRecord = {
          ...current.job,
          mode: 'poll',
          statusUrl: answer.statusUrl,
          pollEverySeconds: answer.retryAfterSeconds,
          ...(answer.cancelUrl ? { cancelUrl: answer.cancelUrl } : {}),
        };
        const written = await this.store.replace(current, next);
        // A conflict means a completion got there first; the stored job is the truth.
        return written === 'conflict' ? await this.load(current.job.jobId) : written;
      }
      case 'unconfirmed':
        console.warn(`job ${current.job.jobId}: dispatch unconfirmed (${answer.reason}); waiting for a completion until the deadline`);
        return current;
      case 'accepted':
        return answer.cancelUrl ? await this.recordCancelUrl(current, answer.cancelUrl) : current;
    }
  }

  /** Push mode with a cancelUrl: one more write (a poll-mode answer folds it into its own). */
  private async recordCancelUrl(current: VersionedJob, cancelUrl: string): Promise<VersionedJob> {
    for (let attempt = 0; attempt < 2; attempt++) {
      if (isFinalStatus(current.job.status)) return current;
      const written = await this.store.replace(current, { ...current.job, cancelUrl });
      if (written !== 'conflict') return written;
      current = await this.load(current.job.jobId);
    }
    console.warn(`job ${current.job.jobId}: could not record the backend's cancelUrl; a cancel event would go to BACKEND_URL`);
    return current;
  }

  /** Waits (within `until`) for a fast job to finish, spending as few Twilio calls as it can. */
  private async waitForFinish(current: VersionedJob, waitUntil: number): Promise<VersionedJob> {
    const until = Math.min(waitUntil, this.now() + budgetLeft() - AFTER_WAIT_RESERVE_MS);
    while (!isFinalStatus(current.job.status)) {
      const { job } = current;
      if (job.mode === 'simulated') {
        // Nothing to ask anyone: either the work is ready within the wait (even a wait of 0) or it is not.
        if (job.readyAt === undefined || job.readyAt > until) return current;
        await sleep(Math.max(0, job.readyAt - this.now()));
        return (await this.refresh(current)).current;
      }
      if (this.now() >= until) return current;
      const pause = job.mode === 'poll' ? (job.pollEverySeconds ?? 1) * 1000 : PUSH_WAIT_POLL_MS;
      if (this.now() + pause > until) return current;
      await sleep(pause);
      current = job.mode === 'poll' ? (await this.refresh(current)).current : await this.load(job.jobId);
    }
    return current;
  }

  /** The job, or 404. */
  async load(jobId: string): Promise<VersionedJob> {
    const current = await this.store.get(jobId);
    if (!current) throw new HttpError('JOB_NOT_FOUND', `no job ${jobId} (unknown, or expired after JOB_TTL_SECONDS)`);
    return current;
  }

  /**
   * Applies what the clock has made due: the simulated work finishing, the deadline passing,
   * or (poll mode, when due) asking the backend. Idempotent; racing callers meet at the revision.
   */
  async refresh(current: VersionedJob, options: { pollBackend?: boolean; pollDueAt?: number } = {}): Promise<Refreshed> {
    const now = this.now();
    const pollDueAt = options.pollBackend === false ? Number.POSITIVE_INFINITY : options.pollDueAt;
    switch (dueTransition(current.job, now, pollDueAt)) {
      case 'simulated-ready':
        return { current: (await this.finalize(current, simulatedOutcome(current.job))).current };
      case 'deadline':
        return { current: (await this.finalize(current, timedOutOutcome())).current };
      case 'poll-backend': {
        const answer = await pollBackend(current.job.statusUrl!, this.config.webhookSecrets[0] ?? '', POLL_TIMEOUT_MS);
        if (answer.kind === 'finished') return { current: (await this.finalize(current, answer.outcome)).current };
        if (answer.kind === 'unreachable') console.warn(`job ${current.job.jobId}: status URL unreachable (${answer.reason})`);
        return answer.kind === 'pending' ? { current, progress: answer.progress, message: answer.message } : { current };
      }
      default:
        return { current };
    }
  }

  /**
   * Makes the job final unless it already is. Large results are written to chunk documents
   * first; the status change itself is one If-Match write, so of two racing outcomes exactly
   * one lands and the other sees it. `beforeWrite` runs as each status write is sent, with the
   * job that write replaces (a caller can then be released at the same time).
   */
  async finalize(
    current: VersionedJob,
    outcome: JobOutcome,
    beforeWrite?: (replacing: JobRecord) => void,
  ): Promise<{ current: VersionedJob; changed: boolean }> {
    let chunks;
    if (outcome.status === 'COMPLETED' && !isFinalStatus(current.job.status)) {
      const resultJson = resultJsonWithinLimit(outcome.result ?? {});
      if (JobStore.needsChunks(resultJson)) {
        chunks = await this.store.writeResultChunks(current.job.jobId, resultJson, randomBytes(3).toString('hex'));
      }
    }
    for (let attempt = 0; attempt < 5; attempt++) {
      if (isFinalStatus(current.job.status)) return { current, changed: false };
      const notify = this.owesCancelEvent(current.job, outcome);
      const now = this.now();
      // Intents ride with the final status: only the request whose write lands sends the cancel
      // event, and starts the delivery execution (the claim).
      const next: JobRecord = {
        ...applyOutcome(current.job, outcome, now, chunks),
        ...(notify ? { cancelNotice: 'pending' as const } : {}),
        ...(current.job.notify ? { delivery: firstClaim(now) } : {}),
      };
      beforeWrite?.(current.job);
      const written = await this.store.replace(current, next);
      if (written !== 'conflict') {
        if (notify) finishBeforeReply(this.sendCancelNotice(written), `job ${written.job.jobId}: cancel event`);
        if (written.job.notify) {
          const delivering = this.outcomes.deliverClaimed(written);
          this.deliveries.set(written.job.jobId, delivering);
          finishBeforeReply(delivering, `job ${written.job.jobId}: delivery execution`);
        }
        return { current: written, changed: true };
      }
      current = await this.load(current.job.jobId);
    }
    throw new Error(`job ${current.job.jobId}: could not finalize after repeated revision conflicts`);
  }

  /** A backend may be working on this job, which ends without its work: tell it (once). */
  private owesCancelEvent(job: JobRecord, outcome: JobOutcome): boolean {
    return (outcome.status === 'CANCELLED' || outcome.status === 'TIMED_OUT') && job.mode !== 'simulated' && Boolean(this.config.backendUrl);
  }

  /**
   * Sends the cancel event of a job this request has just ended (its final write carries
   * `cancelNotice: pending`), alongside whatever else the request does (a caller's release).
   * Nothing is written after it: a final job stays as its one final write left it.
   */
  private async sendCancelNotice(current: VersionedJob): Promise<void> {
    const { job } = current;
    const url = job.cancelUrl ?? this.config.backendUrl;
    const secret = this.config.webhookSecrets[0];
    if (!url || !secret) return;
    const event: CancelEvent = {
      type: CANCEL_EVENT_TYPE,
      jobId: job.jobId,
      status: job.status as CancelEvent['status'],
      reason: job.error?.code ?? job.status,
      at: new Date(job.finishedAt ?? this.now()).toISOString(),
    };
    const delivery = await sendCancelEvent(url, secret, event, this.config.dispatchTimeoutMs);
    if (delivery.ok) console.log(`job ${job.jobId}: cancel event taken by the backend (HTTP ${delivery.status})`);
    else console.warn(`job ${job.jobId}: the backend did not take the cancel event (${delivery.status ? `HTTP ${delivery.status}` : 'no answer'})`);
  }

  /**
   * A heartbeat from the backend (its capability URL was checked): stores progress and message
   * and moves the deadline, at most once per LIMITS.heartbeatMinIntervalMs per job (one Sync
   * read, and one write when stored). A final job refuses it (409), like a late completion.
   */
  async heartbeat(request: HeartbeatRequest & { jobId: string }): Promise<HeartbeatResult> {
    let { current } = await this.refresh(await this.load(request.jobId), { pollBackend: false });
    for (let attempt = 0; attempt < 2; attempt++) {
      const { job } = current;
      if (isFinalStatus(job.status)) {
        await this.requireDelivered(current);
        throw new HttpError('JOB_ALREADY_FINAL', `job ${job.jobId} is already ${job.status}; a heartbeat is only for a pending job`);
      }
      const now = this.now();
      if (job.heartbeatAt !== undefined && now - job.heartbeatAt < LIMITS.heartbeatMinIntervalMs && now >= job.heartbeatAt) {
        return { current, stored: false };
      }
      const next: JobRecord = {
        ...job,
        heartbeatAt: now,
        deadline: this.extendedDeadline(job, now, request.extendSeconds),
        ...(request.progress !== undefined ? { progress: request.progress } : {}),
        ...(request.message !== undefined ? { message: request.message } : {}),
      };
      const written = await this.store.replace(current, next);
      if (written !== 'conflict') return { current: written, stored: true };
      // Another write landed first (another heartbeat, the caller's hold, the outcome): look again.
      current = await this.load(request.jobId);
    }
    return { current, stored: false };
  }

  /** now + extendSeconds when later than the deadline, never past the longest hold from the job's creation. */
  private extendedDeadline(job: JobRecord, now: number, extendSeconds: number | undefined): number {
    if (extendSeconds === undefined) return job.deadline;
    const ceiling = job.createdAt + Math.min(LIMITS.maxHoldSeconds, this.config.jobTtlSeconds - 300) * 1000;
    return Math.max(job.deadline, Math.min(now + extendSeconds * 1000, ceiling));
  }

  /**
   * The backend's completion (its capability URL was checked): applied once, a repeat of the
   * same outcome acknowledged, a different outcome for a final job refused (409). A caller on
   * hold is released while the final status is written: 2 Twilio round trips (read the job;
   * write it and redirect the call) before they leave the music. A repeat releases nobody: the
   * first delivery did, and if it could not, the hold loop's next turn does.
   */
  async complete(request: CompletionRequest): Promise<CompletionResult> {
    const outcome: JobOutcome =
      request.status === 'COMPLETED'
        ? { status: 'COMPLETED', result: normalizeResult(request.result), by: 'callback' }
        : { status: 'FAILED', error: normalizeError(request.error), by: 'callback' };
    if (outcome.result) resultJsonWithinLimit(outcome.result);
    // The deadline is applied first, so a completion that arrives after it is refused.
    const { current } = await this.refresh(await this.load(request.jobId), { pollBackend: false });
    let releasing: Promise<ReleaseOutcome> | undefined;
    const release = (job: JobRecord, status: FinalJobStatus) => {
      if (job.caller) releasing ??= this.voice.release(job.jobId, job.caller, status);
    };
    // The release rides along with the status write (2 round trips) unless another writer could
    // win that write: near the deadline (a hold-loop turn times the job out) or while the hold
    // loop polls the backend. Then it follows the write, with the status that landed.
    const alongside = current.job.mode === 'push' && current.job.deadline - this.now() > RELEASE_RACE_WINDOW_MS;
    const { current: after, changed } = await this.finalize(current, outcome, alongside ? (job) => release(job, outcome.status) : undefined);
    const duplicate = !changed && sameOutcome(after.job, outcome);
    // The job's outcome must reach the flow that did not wait for it: until it has, the backend
    // is told to send again (503), whichever outcome it sent.
    await this.requireDelivered(after);
    if (!changed && !duplicate) {
      throw new HttpError('JOB_ALREADY_FINAL', `job ${request.jobId} is already ${after.job.status}; this completion was not applied`);
    }
    // Not released alongside the write, or put on hold between our read and our write: now.
    if (changed) release(after.job, outcome.status);
    const released = releasing ? await releasing : undefined;
    return { current: after, duplicate, released: released === 'moved' || released === 'room-ended' };
  }

  /**
   * /hold puts the caller on hold: remember their call so a completion can release them at
   * once. One write, skipped when the job already names this call. Returns the job as it is
   * now (a completion that landed first makes it final: the caller then goes straight back).
   */
  async holdCaller(current: VersionedJob, caller: HeldCall): Promise<VersionedJob> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const known = current.job.caller;
      if (isFinalStatus(current.job.status) || (known?.callSid === caller.callSid && known.flowSid === caller.flowSid)) return current;
      const written = await this.store.replace(current, { ...current.job, caller });
      if (written !== 'conflict') return written;
      current = await this.load(current.job.jobId);
    }
    return current;
  }

  /**
   * One turn of the hold loop (the waitUrl request, which proves the caller is in the room):
   * applies what is due (simulated work, a poll, the deadline) and releases the caller when the
   * job is final. A job a completion finalized moments ago is left to that completion's own
   * release, so the call is not redirected twice; a later turn finding the caller still here
   * releases them itself.
   */
  async holdTurn(jobId: string, call: HeldCallHint, pollDueAt?: number): Promise<Refreshed & { released: boolean }> {
    const loaded = await this.load(jobId);
    const refreshed = await this.refresh(loaded, { pollDueAt });
    const { job } = refreshed.current;
    const caller = { ...job.caller, ...definedFields(call) };
    if (!isFinalStatus(job.status)) {
      if (!job.caller && caller.callSid && caller.flowSid) {
        // /hold could not record the call (Twilio trouble): record it now.
        return { ...refreshed, current: await this.holdCaller(refreshed.current, { callSid: caller.callSid, flowSid: caller.flowSid }), released: false };
      }
      return { ...refreshed, released: false };
    }
    const finishedByRecentCompletion =
      isFinalStatus(loaded.job.status) && job.finishedBy === 'callback' && job.caller?.callSid === caller.callSid && this.now() - (job.finishedAt ?? 0) < COMPLETION_RELEASE_GRACE_MS;
    if (finishedByRecentCompletion || !caller.callSid) return { ...refreshed, released: false };
    const outcome = await this.voice.release(jobId, { ...caller, callSid: caller.callSid }, job.status as FinalJobStatus);
    return { ...refreshed, released: outcome === 'moved' || outcome === 'room-ended' };
  }

  /**
   * The caller left the hold room (leave callback) or their Dial ended with the call over.
   * Whether they hung up is read from the Call itself (its status), unless the request already
   * said so (`callEnded`); a caller still on the line was moved on and the job goes on. A
   * pending job of a caller who hung up is cancelled (timed out, past its deadline).
   */
  async callerLeft(jobId: string, leaving: { callSid?: string; callEnded?: boolean }): Promise<VersionedJob> {
    const current = await this.load(jobId);
    if (isFinalStatus(current.job.status)) return current;
    const ended = leaving.callEnded ?? (leaving.callSid ? await this.voice.callEnded(leaving.callSid) : undefined);
    if (ended !== true) return current;
    const outcome: JobOutcome =
      this.now() >= current.job.deadline
        ? timedOutOutcome('hangup')
        : { status: 'CANCELLED', by: 'hangup', error: { code: JOB_ERROR_CODES.callerHungUp, message: 'The caller hung up while on hold' } };
    return (await this.finalize(current, outcome)).current;
  }

  /**
   * How the delivery of a final job with `notify` stands once this request has done its part:
   * the attempt its own final write started, else a new attempt when nobody holds the claim.
   */
  async settleDelivery(current: VersionedJob): Promise<DeliveryStatus> {
    const started = this.deliveries.get(current.job.jobId);
    if (started) return started;
    if (!current.job.notify || !isFinalStatus(current.job.status)) return { kind: 'none' };
    return this.outcomes.retry(current);
  }

  /** 503 DELIVERY_PENDING while the outcome has not reached Studio: the backend sends the same body again. */
  private async requireDelivered(current: VersionedJob): Promise<void> {
    const status = await this.settleDelivery(current);
    if (status.kind !== 'pending') return;
    throw new HttpError(
      'DELIVERY_PENDING',
      `job ${current.job.jobId} is ${current.job.status}, but its outcome has not reached Studio yet (${status.reason}); send the same request again`,
      status.retryAfterSeconds,
    );
  }

  readResult(job: JobRecord): Promise<Record<string, unknown> | undefined> {
    return this.store.readResult(job);
  }
}
