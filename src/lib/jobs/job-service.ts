import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { isFinalStatus, JOB_ERROR_CODES, LIMITS, type CompletionRequest } from '../contracts';
import type { ServiceConfig } from '../config';
import { budgetLeft } from '../http/budget';
import { HttpError } from '../http/errors';
import { dispatchToBackend, pollBackend } from '../backend/http-backend';
import { normalizeError, normalizeResult, resultJsonWithinLimit } from '../backend/payload';
import { planSimulatedWork, simulatedOutcome } from '../backend/simulated';
import { JobStore } from '../store/job-store';
import type { TwilioClient } from '../twilio-client';
import { endHoldRooms, findHoldRooms, releaseHoldRoom } from '../voice/hold-room';
import { jobIdForKey, randomJobId } from './job-id';
import type { JobOutcome, JobRecord, VersionedJob } from './job';
import { applyOutcome, dueTransition, sameOutcome, stableJson, timedOutOutcome } from './state';

export interface StartRequest {
  idempotencyKey?: string;
  input: Record<string, unknown>;
  maxHoldSeconds: number;
  waitSeconds: number;
  callbackUrl: string;
}

export interface Refreshed {
  current: VersionedJob;
  /** Progress a poll-mode backend reported just now (not stored: it would cost a write). */
  progress?: number;
}

export interface CompletionResult {
  current: VersionedJob;
  duplicate: boolean;
  roomsReleased: number;
}

/** Waiting for a pushed completion re-reads the job at this pace. */
const PUSH_WAIT_POLL_MS = 400;
const POLL_TIMEOUT_MS = 2000;
/** The wait for a fast finish ends this long before the request's budget, to read and reply. */
const AFTER_WAIT_RESERVE_MS = 2_500;

/** The job lifecycle: start, the clock's transitions, completion, hang-up. One instance per request. */
export class JobService {
  constructor(
    private readonly config: ServiceConfig,
    private readonly store: JobStore,
    private readonly client: TwilioClient,
    private readonly now: () => number = Date.now,
  ) {}

  /** Creates (or finds, for the same key and input) the job and dispatches its work. */
  async start(request: StartRequest): Promise<{ current: VersionedJob; created: boolean }> {
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
      ...(this.config.backendUrl ? {} : planSimulatedWork(request.input, this.config.simulatedWorkSeconds, now)),
    };
    const { created, current } = await this.store.create(record);
    if (!created) {
      if (current.job.inputHash !== inputHash) {
        throw new HttpError('IDEMPOTENCY_CONFLICT', `idempotencyKey was already used for job ${current.job.jobId} with different input`);
      }
      return { current: (await this.refresh(current, { pollBackend: false })).current, created: false };
    }
    const dispatched = await this.dispatch(current, request);
    const waitUntil = now + Math.min(request.waitSeconds, LIMITS.startWaitSeconds) * 1000;
    return { current: await this.waitForFinish(dispatched, waitUntil), created: true };
  }

  private async dispatch(current: VersionedJob, request: StartRequest): Promise<VersionedJob> {
    const { backendUrl, webhookSecrets, dispatchTimeoutMs } = this.config;
    if (!backendUrl) return current;
    const answer = await dispatchToBackend(
      backendUrl,
      webhookSecrets[0]!,
      { jobId: current.job.jobId, input: request.input, callbackUrl: request.callbackUrl, deadline: new Date(current.job.deadline).toISOString() },
      dispatchTimeoutMs,
    );
    switch (answer.kind) {
      case 'finished':
        return (await this.finalize(current, answer.outcome)).current;
      case 'poll': {
        const next: JobRecord = { ...current.job, mode: 'poll', statusUrl: answer.statusUrl, pollEverySeconds: answer.retryAfterSeconds };
        const written = await this.store.replace(current, next);
        // A conflict means a completion got there first; the stored job is the truth.
        return written === 'conflict' ? await this.load(current.job.jobId) : written;
      }
      case 'unconfirmed':
        console.warn(`job ${current.job.jobId}: dispatch unconfirmed (${answer.reason}); waiting for a completion until the deadline`);
        return current;
      case 'accepted':
        return current;
    }
  }

  /** Waits (within `until`) for a fast job to finish, spending as few Twilio calls as it can. */
  private async waitForFinish(current: VersionedJob, waitUntil: number): Promise<VersionedJob> {
    const until = Math.min(waitUntil, this.now() + budgetLeft() - AFTER_WAIT_RESERVE_MS);
    while (!isFinalStatus(current.job.status) && this.now() < until) {
      const { job } = current;
      if (job.mode === 'simulated') {
        // Nothing to ask anyone: either the work is ready within the wait or it is not.
        if (job.readyAt === undefined || job.readyAt > until) return current;
        await sleep(Math.max(0, job.readyAt - this.now()));
        return (await this.refresh(current)).current;
      }
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
        return { current, progress: answer.kind === 'pending' ? answer.progress : undefined };
      }
      default:
        return { current };
    }
  }

  /**
   * Makes the job final unless it already is. Large results are written to chunk documents
   * first; the status change itself is one If-Match write, so of two racing outcomes exactly
   * one lands and the other sees it. `beforeWrite` runs as the status write is sent (a caller
   * can then be released at the same time).
   */
  async finalize(
    current: VersionedJob,
    outcome: JobOutcome,
    beforeWrite?: () => void,
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
      const next = applyOutcome(current.job, outcome, this.now(), chunks);
      beforeWrite?.();
      const written = await this.store.replace(current, next);
      if (written !== 'conflict') return { current: written, changed: true };
      current = await this.load(current.job.jobId);
    }
    throw new Error(`job ${current.job.jobId}: could not finalize after repeated revision conflicts`);
  }

  /** A signed completion from the backend: applied once, duplicates acknowledged, late or conflicting ones refused. */
  async complete(request: CompletionRequest, webhookId: string): Promise<CompletionResult> {
    const outcome: JobOutcome =
      request.status === 'COMPLETED'
        ? { status: 'COMPLETED', result: normalizeResult(request.result), by: 'callback', completionId: webhookId }
        : { status: 'FAILED', error: normalizeError(request.error), by: 'callback', completionId: webhookId };
    if (outcome.result) resultJsonWithinLimit(outcome.result);
    // The caller's room is looked up while the job is read, and ended while the final status is
    // written: the caller waits 2 Twilio round trips instead of 4 (read, write, look up, end).
    const lookup = findHoldRooms(this.client, request.jobId).catch(() => [] as string[]);
    let ending: Promise<number> | undefined;
    // The deadline is applied first, so a completion that arrives after it is refused.
    const { current } = await this.refresh(await this.load(request.jobId), { pollBackend: false });
    const { current: after, changed } = await this.finalize(current, outcome, () => {
      ending ??= lookup.then((rooms) => endHoldRooms(this.client, rooms));
    });
    const duplicate = !changed && (after.job.completionId === webhookId || sameOutcome(after.job, outcome));
    if (!changed && !duplicate) {
      throw new HttpError('JOB_ALREADY_FINAL', `job ${request.jobId} is already ${after.job.status}; this completion was not applied`);
    }
    // When no room was ended while the status was written (nobody was in it when it was looked
    // up, ending it failed, or this is a duplicate), look again now that the job is final: a
    // caller who joined meanwhile is released, and so is one whose first delivery landed without
    // its release (a lost reply, a failed conference call); rooms already gone cost one lookup.
    const ended = (await ending) ?? 0;
    return { current: after, duplicate, roomsReleased: ended > 0 ? ended : await releaseHoldRoom(this.client, request.jobId) };
  }

  /** The caller left the hold room while the job was pending: nobody is waiting for it any more. */
  async callerLeft(jobId: string): Promise<VersionedJob> {
    const current = await this.load(jobId);
    if (isFinalStatus(current.job.status)) return current;
    const outcome: JobOutcome =
      this.now() >= current.job.deadline
        ? timedOutOutcome('hangup')
        : { status: 'CANCELLED', by: 'hangup', error: { code: JOB_ERROR_CODES.callerHungUp, message: 'The caller hung up while on hold' } };
    return (await this.finalize(current, outcome)).current;
  }

  /** Releases the caller from the job's hold room (after the job is final). */
  releaseHold(jobId: string): Promise<number> {
    return releaseHoldRoom(this.client, jobId);
  }

  readResult(job: JobRecord): Promise<Record<string, unknown> | undefined> {
    return this.store.readResult(job);
  }
}
