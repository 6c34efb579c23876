import { isFinalStatus, type FinalJobStatus, type FlowDeliveryData } from '../contracts';
import { DELIVERY_CLAIM_MS, DELIVERY_RETRY_AFTER_SECONDS } from '../timing';
import type { DeliveryRecord, JobRecord, VersionedJob } from './job';
import type { FlowDelivery, JobStore } from './ports';

const CLAIM_ATTEMPTS = 3;

export type DeliveryStatus =
  /** The job owes no delivery (no `notify`, or not final yet). */
  | { kind: 'none' }
  | { kind: 'delivered'; executionSid: string }
  | { kind: 'pending'; retryAfterSeconds: number; reason: string };

/** The claim that rides with the final write of a job with `notify`: its writer starts the execution. */
export function firstClaim(now: number): DeliveryRecord {
  return { state: 'pending', attempts: 1, claimedUntil: now + DELIVERY_CLAIM_MS, attemptedAt: now };
}

/** When an earlier attempt may have started an execution, where to look for it from; else undefined. */
function lookSince(delivery: DeliveryRecord, now: number): number | undefined {
  const claimLapsed = delivery.claimedUntil !== undefined && now >= delivery.claimedUntil;
  if (claimLapsed || delivery.lastError?.unsure) return delivery.attemptedAt ?? 0;
  return delivery.lookSince;
}

/** The next claim on a pending delivery (someone else's lapsed claim, or an earlier failure). */
export function nextClaim(delivery: DeliveryRecord, now: number): DeliveryRecord {
  const since = lookSince(delivery, now);
  return {
    state: 'pending',
    attempts: delivery.attempts + 1,
    ...(delivery.lastError ? { lastError: delivery.lastError } : {}),
    claimedUntil: now + DELIVERY_CLAIM_MS,
    attemptedAt: now,
    ...(since !== undefined ? { lookSince: since } : {}),
  };
}

/**
 * Hands a final job's outcome to the flow that asked for it (a new execution, START_NOTIFY_PARAMS),
 * exactly once: whoever's If-Match write lands the claim starts the execution; everyone else sees
 * the claim and waits, or sees `delivered` and does nothing.
 */
export class OutcomeDelivery {
  constructor(
    private readonly store: JobStore,
    private readonly studio: FlowDelivery,
    private readonly now: () => number = Date.now,
  ) {}

  /** What a final job's delivery looks like without doing anything. */
  static status(job: JobRecord, now: number): DeliveryStatus {
    const delivery = job.delivery;
    if (!job.notify || !delivery || !isFinalStatus(job.status)) return { kind: 'none' };
    if (delivery.state === 'delivered') return { kind: 'delivered', executionSid: delivery.executionSid ?? '' };
    if (delivery.claimedUntil !== undefined && now < delivery.claimedUntil) {
      return {
        kind: 'pending',
        retryAfterSeconds: DELIVERY_RETRY_AFTER_SECONDS.claimed,
        reason: 'another request is starting the execution now',
      };
    }
    const error = delivery.lastError;
    return {
      kind: 'pending',
      retryAfterSeconds:
        error?.code === 'CONTACT_ACTIVE'
          ? DELIVERY_RETRY_AFTER_SECONDS.contactActive
          : DELIVERY_RETRY_AFTER_SECONDS.transient,
      reason: error ? `${error.code}: ${error.message}` : 'not attempted yet',
    };
  }

  /**
   * A final job whose delivery is not done and not claimed: claim it and start the execution.
   * A claim someone else holds, or a job that owes nothing, is reported as it is.
   */
  async retry(current: VersionedJob): Promise<DeliveryStatus> {
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      const now = this.now();
      const status = OutcomeDelivery.status(current.job, now);
      const claimable =
        status.kind === 'pending' &&
        !(current.job.delivery!.claimedUntil !== undefined && now < current.job.delivery!.claimedUntil);
      if (!claimable) return status;
      const written = await this.writeDelivery(current, nextClaim(current.job.delivery!, now));
      if (written !== 'conflict') return this.deliverClaimed(written);
      const reloaded = await this.store.get(current.job.jobId);
      if (!reloaded) return { kind: 'none' };
      current = reloaded;
    }
    return OutcomeDelivery.status(current.job, this.now());
  }

  /** Starts the execution for a job whose stored revision holds this request's claim, and records how it went. */
  async deliverClaimed(current: VersionedJob): Promise<DeliveryStatus> {
    const { job } = current;
    const notify = job.notify!;
    const claim = job.delivery!;
    let executionSid: string | undefined;
    if (claim.lookSince !== undefined) {
      executionSid = await this.studio.findExecution(notify, job.jobId, claim.lookSince).catch((error: unknown) => {
        console.warn(
          `job ${job.jobId}: could not look for an execution an earlier attempt may have started (${(error as Error).message})`,
        );
        return undefined;
      });
      if (executionSid)
        console.log(`job ${job.jobId}: an earlier attempt had started execution ${executionSid}; not starting another`);
    }
    let next: DeliveryRecord;
    if (executionSid) {
      next = { state: 'delivered', attempts: claim.attempts, executionSid };
    } else {
      const attempt = await this.studio.startExecution(notify, await this.data(job));
      if (attempt.ok) {
        next = { state: 'delivered', attempts: claim.attempts, executionSid: attempt.executionSid };
      } else {
        console.warn(
          `job ${job.jobId}: could not start the delivery execution (attempt ${claim.attempts}): ${attempt.error.code}: ${attempt.error.message}`,
        );
        next = {
          state: 'pending',
          attempts: claim.attempts,
          lastError: attempt.error,
          attemptedAt: claim.attemptedAt ?? this.now(),
        };
        await this.record(current, next);
        return {
          kind: 'pending',
          retryAfterSeconds: attempt.retryAfterSeconds,
          reason: `${attempt.error.code}: ${attempt.error.message}`,
        };
      }
    }
    console.log(`job ${job.jobId}: outcome handed to Studio as execution ${next.executionSid}`);
    await this.record(current, next);
    return { kind: 'delivered', executionSid: next.executionSid! };
  }

  /**
   * Writes how the claimed attempt went. Nobody else writes while the claim holds, so a conflict
   * means the claim lapsed; a failed write leaves the claim to lapse and the next attempt to
   * find the execution (an unsure attempt is looked for first).
   */
  private async record(current: VersionedJob, next: DeliveryRecord): Promise<void> {
    try {
      const written = await this.writeDelivery(current, next);
      if (written !== 'conflict' || next.state !== 'delivered') return;
      const reloaded = await this.store.get(current.job.jobId);
      if (reloaded && reloaded.job.delivery?.state !== 'delivered') await this.writeDelivery(reloaded, next);
    } catch (error) {
      console.warn(
        `job ${current.job.jobId}: could not record the delivery (${(error as Error).message}); the claim lapses and the next attempt looks first`,
      );
    }
  }

  /**
   * The one write a final job takes: its delivery bookkeeping, everything else left as the final
   * write made it. If-Match like every change.
   */
  private async writeDelivery(current: VersionedJob, delivery: DeliveryRecord): Promise<VersionedJob | 'conflict'> {
    if (!isFinalStatus(current.job.status))
      throw new Error(`job ${current.job.jobId}: delivery bookkeeping is for final jobs only`);
    return this.store.replace(current, { ...current.job, delivery });
  }

  private async data(job: JobRecord): Promise<FlowDeliveryData> {
    const result = job.status === 'COMPLETED' ? ((await this.store.readResult(job)) ?? {}) : undefined;
    return {
      jobId: job.jobId,
      status: job.status as FinalJobStatus,
      ...(result ? { result } : {}),
      ...(job.error ? { error: job.error } : {}),
    };
  }
}
