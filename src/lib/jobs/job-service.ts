import { createHash, randomBytes } from 'node:crypto';
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
import { budgetLeft, finishBeforeReply } from '../runtime/budget';
import {
  COMPLETION_RELEASE_GRACE_MS,
  PUSH_WAIT_POLL_MS,
  RELEASE_RACE_WINDOW_MS,
  STATUS_WAIT_POLL_MAX_MS,
  WAIT_RESERVE_MS,
} from '../timing';
import { DeliveryPending, IdempotencyConflict, JobAlreadyFinal, JobNotFound } from './errors';
import { jobIdForKey, randomJobId } from './job-id';
import type { HeldCall, JobOutcome, JobRecord, NotifyTarget, VersionedJob } from './job';
import { firstClaim, OutcomeDelivery, type DeliveryStatus } from './outcome-delivery';
import { normalizeError, normalizeResult, resultJsonWithinLimit } from './payload';
import type { Backend, Clock, FlowDelivery, HoldVoice, JobStore, ReleaseOutcome } from './ports';
import { planSimulatedWork, simulatedOutcome } from './simulated-work';
import {
  applyOutcome,
  dueTransition,
  longestHoldSeconds,
  retryAfterSeconds,
  sameOutcome,
  stableJson,
  timedOutOutcome,
} from './state';

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

/** A job as a read found it, once what was due has been applied. */
export interface Observed {
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

/** What a read applies: `pollBackend: false` never asks the backend; `pollDueAt` asks it only from then on. */
export interface ObserveOptions {
  pollBackend?: boolean;
  pollDueAt?: number;
}

/** The settings the lifecycle reads (a ServiceConfig has them). */
export interface JobSettings {
  /** Keys job ids derived from idempotency keys, so ids cannot be guessed. */
  jobIdSecret: string;
  jobTtlSeconds: number;
  /** How long the simulated backend's work takes when the input does not say. */
  simulatedWorkSeconds: { min: number; max: number };
}

/** The job service's collaborators (jobs/ports.ts), wired in services.ts. */
export interface JobPorts {
  store: JobStore;
  voice: HoldVoice;
  /** The backend at BACKEND_URL; undefined: the built-in simulated backend does the work. */
  backend: Backend | undefined;
  /** Studio, for the outcome of a messaging flow that did not wait for it. */
  delivery: FlowDelivery;
  clock: Clock;
}

function definedFields<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The outcome a backend's completion reports. */
function completionOutcome(request: CompletionRequest): JobOutcome {
  return request.status === 'COMPLETED'
    ? { status: 'COMPLETED', result: normalizeResult(request.result), by: 'callback' }
    : { status: 'FAILED', error: normalizeError(request.error), by: 'callback' };
}

/** The cancel event of a job that has just ended without its work. */
function cancelEvent(job: JobRecord, now: number): CancelEvent {
  return {
    type: CANCEL_EVENT_TYPE,
    jobId: job.jobId,
    status: job.status as CancelEvent['status'],
    reason: job.error?.code ?? job.status,
    at: new Date(job.finishedAt ?? now).toISOString(),
  };
}

const released = (outcome: ReleaseOutcome | undefined) => outcome === 'moved' || outcome === 'room-ended';

/** The job lifecycle: start, the clock's transitions, completion, hang-up. One instance per request. */
export class JobService {
  private readonly store: JobStore;
  private readonly voice: HoldVoice;
  private readonly backend: Backend | undefined;
  private readonly clock: Clock;
  private readonly outcomes: OutcomeDelivery;
  /** Deliveries this request started with a final write it landed, by job. */
  private readonly deliveries = new Map<string, Promise<DeliveryStatus>>();

  constructor(
    private readonly settings: JobSettings,
    ports: JobPorts,
  ) {
    this.store = ports.store;
    this.voice = ports.voice;
    this.backend = ports.backend;
    this.clock = ports.clock;
    this.outcomes = new OutcomeDelivery(ports.store, ports.delivery, () => this.clock.now());
  }

  private now(): number {
    return this.clock.now();
  }

  /** Creates (or finds, for the same key and input) the job and dispatches its work. */
  async start(request: StartRequest): Promise<Started> {
    const now = this.now();
    const record = this.newJob(request, now);
    const { created, current } = await this.store.create(record);
    if (!created) {
      if (current.job.inputHash !== record.inputHash) throw new IdempotencyConflict(current.job.jobId);
      const found = (await this.refresh(current, { pollBackend: false })).current;
      return { ...(await this.promiseDelivery(found, request.notify)), created: false };
    }
    const dispatched = await this.dispatch(current, request);
    const waitUntil = now + Math.min(request.waitSeconds, LIMITS.startWaitSeconds) * 1000;
    return {
      ...(await this.promiseDelivery(await this.waitForFinish(dispatched, waitUntil), request.notify)),
      created: true,
    };
  }

  private newJob(request: StartRequest, now: number): JobRecord {
    return {
      v: 1,
      jobId: request.idempotencyKey ? jobIdForKey(this.settings.jobIdSecret, request.idempotencyKey) : randomJobId(),
      status: 'PENDING',
      inputHash: createHash('sha256').update(stableJson(request.input)).digest('base64url'),
      createdAt: now,
      deadline: now + request.maxHoldSeconds * 1000,
      mode: this.backend ? 'push' : 'simulated',
      createId: randomBytes(8).toString('hex'),
      ...definedFields(request.hold ?? {}),
      ...(this.backend ? {} : planSimulatedWork(request.input, this.settings.simulatedWorkSeconds, now)),
    };
  }

  /**
   * Decides, as /jobs/start answers, who hands the outcome to a flow that passed notify
   * parameters. A push-mode job still pending gets `notify` (one If-Match write): from then on
   * the request that makes it final starts an execution with the outcome. A job that is final
   * without it goes back in this reply (the flow sends it), and poll and simulated jobs are the
   * flow's to wait for: nothing on Twilio would run the service for them later. So each job is
   * delivered once, by the execution or by the flow.
   */
  private async promiseDelivery(
    current: VersionedJob,
    notify: NotifyTarget | undefined,
  ): Promise<{ current: VersionedJob; delivery?: Delivery }> {
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
    if (!this.backend) return current;
    const { job } = current;
    const answer = await this.backend.dispatch({
      jobId: job.jobId,
      input: request.input,
      callbackUrl: request.callbackUrl(job.jobId),
      deadline: new Date(job.deadline).toISOString(),
    });
    switch (answer.kind) {
      case 'finished':
        return (await this.finalize(current, answer.outcome)).current;
      case 'poll': {
        const next: JobRecord = {
          ...job,
          mode: 'poll',
          statusUrl: answer.statusUrl,
          pollEverySeconds: answer.retryAfterSeconds,
          ...(answer.cancelUrl ? { cancelUrl: answer.cancelUrl } : {}),
        };
        const written = await this.store.replace(current, next);
        // A conflict means a completion got there first; the stored job is the truth.
        return written === 'conflict' ? await this.load(job.jobId) : written;
      }
      case 'unconfirmed':
        console.warn(
          `job ${job.jobId}: dispatch unconfirmed (${answer.reason}); waiting for a completion until the deadline`,
        );
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
    console.warn(
      `job ${current.job.jobId}: could not record the backend's cancelUrl; a cancel event would go to BACKEND_URL`,
    );
    return current;
  }

  /** Waits (within `until`) for a fast job to finish, spending as few Twilio calls as it can. */
  private async waitForFinish(current: VersionedJob, waitUntil: number): Promise<VersionedJob> {
    const until = Math.min(waitUntil, this.now() + budgetLeft() - WAIT_RESERVE_MS);
    while (!isFinalStatus(current.job.status)) {
      const { job } = current;
      if (job.mode === 'simulated') {
        // Nothing to ask anyone: either the work is ready within the wait (even a wait of 0) or it is not.
        if (job.readyAt === undefined || job.readyAt > until) return current;
        await this.clock.sleep(Math.max(0, job.readyAt - this.now()));
        return (await this.refresh(current)).current;
      }
      if (this.now() >= until) return current;
      const pause = job.mode === 'poll' ? (job.pollEverySeconds ?? 1) * 1000 : PUSH_WAIT_POLL_MS;
      if (this.now() + pause > until) return current;
      await this.clock.sleep(pause);
      current = job.mode === 'poll' ? (await this.refresh(current)).current : await this.load(job.jobId);
    }
    return current;
  }

  /**
   * /jobs/status with `wait`: observes the job until it is final or `waitSeconds` are over,
   * looking again at its retryAfter (at most STATUS_WAIT_POLL_MAX_MS apart). Like the fast-finish
   * wait, no look starts later than WAIT_RESERVE_MS before the end of the request's budget.
   */
  async observeUntilFinal(jobId: string, waitSeconds: number): Promise<Observed> {
    const until = this.now() + waitSeconds * 1000;
    let observed = await this.observe(jobId);
    while (!isFinalStatus(observed.current.job.status)) {
      const pause = Math.min(retryAfterSeconds(observed.current.job, this.now()) * 1000, STATUS_WAIT_POLL_MAX_MS);
      if (this.now() + pause > until || budgetLeft() - pause < WAIT_RESERVE_MS) break;
      await this.clock.sleep(pause);
      observed = await this.observe(jobId);
    }
    return observed;
  }

  /** The job, or JobNotFound. */
  async load(jobId: string): Promise<VersionedJob> {
    const current = await this.store.get(jobId);
    if (!current) throw new JobNotFound(jobId);
    return current;
  }

  /** Loads the job and applies what the clock has made due (see refresh): a handler's read of a job. */
  async observe(jobId: string, options: ObserveOptions = {}): Promise<Observed> {
    return this.refresh(await this.load(jobId), options);
  }

  /**
   * Applies what the clock has made due: the simulated work finishing, the deadline passing,
   * or (poll mode, when due) asking the backend. Idempotent; racing callers meet at the revision.
   */
  private async refresh(current: VersionedJob, options: ObserveOptions = {}): Promise<Observed> {
    const pollDueAt = options.pollBackend === false ? Number.POSITIVE_INFINITY : options.pollDueAt;
    switch (dueTransition(current.job, this.now(), pollDueAt)) {
      case 'simulated-ready':
        return { current: (await this.finalize(current, simulatedOutcome(current.job))).current };
      case 'deadline':
        return { current: (await this.finalize(current, timedOutOutcome())).current };
      case 'poll-backend':
        return this.pollBackend(current);
      default:
        return { current };
    }
  }

  private async pollBackend(current: VersionedJob): Promise<Observed> {
    const { job } = current;
    if (!this.backend) {
      console.warn(`job ${job.jobId}: status URL unreachable (no BACKEND_URL is configured)`);
      return { current };
    }
    const answer = await this.backend.poll(job.statusUrl!);
    if (answer.kind === 'finished') return { current: (await this.finalize(current, answer.outcome)).current };
    if (answer.kind === 'unreachable') console.warn(`job ${job.jobId}: status URL unreachable (${answer.reason})`);
    return answer.kind === 'pending' ? { current, progress: answer.progress, message: answer.message } : { current };
  }

  /**
   * Makes the job final unless it already is. Large results are written to chunk documents
   * first; the status change itself is one If-Match write, so of two racing outcomes exactly
   * one lands and the other sees it. `beforeWrite` runs as each status write is sent, with the
   * job that write replaces (a caller can then be released at the same time).
   */
  private async finalize(
    current: VersionedJob,
    outcome: JobOutcome,
    beforeWrite?: (replacing: JobRecord) => void,
  ): Promise<{ current: VersionedJob; changed: boolean }> {
    const chunks = await this.writeLargeResult(current, outcome);
    for (let attempt = 0; attempt < 5; attempt++) {
      if (isFinalStatus(current.job.status)) return { current, changed: false };
      const owesCancel = this.owesCancelEvent(current.job, outcome);
      const now = this.now();
      // Intents ride with the final status: only the request whose write lands sends the cancel
      // event, and starts the delivery execution (the claim).
      const next: JobRecord = {
        ...applyOutcome(current.job, outcome, now, chunks),
        ...(owesCancel ? { cancelNotice: 'pending' as const } : {}),
        ...(current.job.notify ? { delivery: firstClaim(now) } : {}),
      };
      beforeWrite?.(current.job);
      const written = await this.store.replace(current, next);
      if (written !== 'conflict') {
        this.afterFinalWrite(written, owesCancel);
        return { current: written, changed: true };
      }
      current = await this.load(current.job.jobId);
    }
    throw new Error(`job ${current.job.jobId}: could not finalize after repeated revision conflicts`);
  }

  /** A completed outcome's result too large for the job document goes to chunk documents first. */
  private async writeLargeResult(current: VersionedJob, outcome: JobOutcome) {
    if (outcome.status !== 'COMPLETED' || isFinalStatus(current.job.status)) return undefined;
    const resultJson = resultJsonWithinLimit(outcome.result ?? {});
    if (!this.store.needsChunks(resultJson)) return undefined;
    return this.store.writeResultChunks(current.job.jobId, resultJson, randomBytes(3).toString('hex'));
  }

  /** What the request whose final write landed owes: the cancel event, and the delivery execution. */
  private afterFinalWrite(written: VersionedJob, owesCancel: boolean): void {
    const { jobId } = written.job;
    if (owesCancel) finishBeforeReply(this.sendCancelNotice(written), `job ${jobId}: cancel event`);
    if (written.job.notify) {
      const delivering = this.outcomes.deliverClaimed(written);
      this.deliveries.set(jobId, delivering);
      finishBeforeReply(delivering, `job ${jobId}: delivery execution`);
    }
  }

  /** A backend may be working on this job, which ends without its work: tell it (once). */
  private owesCancelEvent(job: JobRecord, outcome: JobOutcome): boolean {
    return (
      (outcome.status === 'CANCELLED' || outcome.status === 'TIMED_OUT') &&
      job.mode !== 'simulated' &&
      this.backend !== undefined
    );
  }

  /**
   * Sends the cancel event of a job this request has just ended (its final write carries
   * `cancelNotice: pending`), alongside whatever else the request does (a caller's release).
   * Nothing is written after it: a final job stays as its one final write left it.
   */
  private async sendCancelNotice(current: VersionedJob): Promise<void> {
    const { job } = current;
    if (!this.backend) return;
    const delivery = await this.backend.cancel(cancelEvent(job, this.now()), job.cancelUrl);
    if (delivery.ok) console.log(`job ${job.jobId}: cancel event taken by the backend (HTTP ${delivery.status})`);
    else
      console.warn(
        `job ${job.jobId}: the backend did not take the cancel event (${delivery.status ? `HTTP ${delivery.status}` : 'no answer'})`,
      );
  }

  /**
   * A heartbeat from the backend (its capability URL was checked): stores progress and message
   * and moves the deadline, at most once per LIMITS.heartbeatMinIntervalMs per job (one Sync
   * read, and one write when stored). A final job refuses it (JobAlreadyFinal), like a late completion.
   */
  async heartbeat(request: HeartbeatRequest & { jobId: string }): Promise<HeartbeatResult> {
    let { current } = await this.observe(request.jobId, { pollBackend: false });
    for (let attempt = 0; attempt < 2; attempt++) {
      const { job } = current;
      if (isFinalStatus(job.status)) {
        await this.requireDelivered(current);
        throw new JobAlreadyFinal(job.jobId, job.status, 'a heartbeat is only for a pending job');
      }
      const now = this.now();
      if (
        job.heartbeatAt !== undefined &&
        now - job.heartbeatAt < LIMITS.heartbeatMinIntervalMs &&
        now >= job.heartbeatAt
      ) {
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
    const ceiling = job.createdAt + longestHoldSeconds(this.settings.jobTtlSeconds) * 1000;
    return Math.max(job.deadline, Math.min(now + extendSeconds * 1000, ceiling));
  }

  /**
   * The backend's completion (its capability URL was checked): applied once, a repeat of the
   * same outcome acknowledged, a different outcome for a final job refused (JobAlreadyFinal). A
   * caller on hold is released while the final status is written: 2 Twilio round trips (read the
   * job; write it and redirect the call) before they leave the music. A repeat releases nobody:
   * the first delivery did, and if it could not, the hold loop's next turn does.
   */
  async complete(request: CompletionRequest): Promise<CompletionResult> {
    const outcome = completionOutcome(request);
    if (outcome.result) resultJsonWithinLimit(outcome.result);
    // The deadline is applied first, so a completion that arrives after it is refused.
    const { current } = await this.observe(request.jobId, { pollBackend: false });
    let releasing: Promise<ReleaseOutcome> | undefined;
    const release = (job: JobRecord, status: FinalJobStatus) => {
      if (job.caller) releasing ??= this.voice.release(job.jobId, job.caller, status);
    };
    // The release rides along with the status write (2 round trips) unless another writer could
    // win that write: near the deadline (a hold-loop turn times the job out) or while the hold
    // loop polls the backend. Then it follows the write, with the status that landed.
    const alongside = current.job.mode === 'push' && current.job.deadline - this.now() > RELEASE_RACE_WINDOW_MS;
    const { current: after, changed } = await this.finalize(
      current,
      outcome,
      alongside ? (job) => release(job, outcome.status) : undefined,
    );
    const duplicate = !changed && sameOutcome(after.job, outcome);
    // The job's outcome must reach the flow that did not wait for it: until it has, the backend
    // is told to send again (DeliveryPending), whichever outcome it sent.
    await this.requireDelivered(after);
    if (!changed && !duplicate) {
      throw new JobAlreadyFinal(request.jobId, after.job.status as FinalJobStatus, 'this completion was not applied');
    }
    // Not released alongside the write, or put on hold between our read and our write: now.
    if (changed) release(after.job, outcome.status);
    return { current: after, duplicate, released: released(releasing ? await releasing : undefined) };
  }

  /**
   * /hold puts the caller on hold: remember their call so a completion can release them at
   * once. One write, skipped when the job already names this call. Returns the job as it is
   * now (a completion that landed first makes it final: the caller then goes straight back).
   */
  async holdCaller(current: VersionedJob, caller: HeldCall): Promise<VersionedJob> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const known = current.job.caller;
      if (isFinalStatus(current.job.status) || (known?.callSid === caller.callSid && known.flowSid === caller.flowSid))
        return current;
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
   * release, so the call is not redirected twice (also when this turn read the job while it was
   * still pending and lost the final write to the completion); a later turn finding the caller
   * still here releases them itself.
   */
  async holdTurn(jobId: string, call: HeldCallHint, pollDueAt?: number): Promise<Observed & { released: boolean }> {
    const observed = await this.observe(jobId, { pollDueAt });
    const { job } = observed.current;
    const caller = { ...job.caller, ...definedFields(call) };
    if (!isFinalStatus(job.status)) {
      if (!job.caller && caller.callSid && caller.flowSid) {
        // /hold could not record the call (Twilio trouble): record it now.
        return {
          ...observed,
          current: await this.holdCaller(observed.current, { callSid: caller.callSid, flowSid: caller.flowSid }),
          released: false,
        };
      }
      return { ...observed, released: false };
    }
    const finishedByRecentCompletion =
      job.finishedBy === 'callback' &&
      job.caller?.callSid === caller.callSid &&
      this.now() - (job.finishedAt ?? 0) < COMPLETION_RELEASE_GRACE_MS;
    if (finishedByRecentCompletion || !caller.callSid) return { ...observed, released: false };
    const outcome = await this.voice.release(
      jobId,
      { ...caller, callSid: caller.callSid },
      job.status as FinalJobStatus,
    );
    return { ...observed, released: released(outcome) };
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
        : {
            status: 'CANCELLED',
            by: 'hangup',
            error: { code: JOB_ERROR_CODES.callerHungUp, message: 'The caller hung up while on hold' },
          };
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

  /** DeliveryPending while the outcome has not reached Studio: the backend sends the same body again. */
  private async requireDelivered(current: VersionedJob): Promise<void> {
    const status = await this.settleDelivery(current);
    if (status.kind !== 'pending') return;
    throw new DeliveryPending(current.job.jobId, current.job.status, status.reason, status.retryAfterSeconds);
  }

  readResult(job: JobRecord): Promise<Record<string, unknown> | undefined> {
    return this.store.readResult(job);
  }
}
