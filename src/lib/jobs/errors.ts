import type { FinalJobStatus, JobStatus } from '../contracts';

/**
 * How the job domain fails, and which kind to use when:
 *
 * - A refusal (a subclass of JobRefusal, below): the request cannot be done as asked, and the
 *   caller can tell why. The HTTP edge (http/errors.ts) gives each its error code and status;
 *   the domain knows neither.
 * - A plain Error: an invariant broke (a revision race that never settles, a document that
 *   should exist but does not). The edge answers INTERNAL and logs it.
 * - Values, not exceptions, for outcomes a caller branches on: the store's 'conflict', the
 *   backend's answers, a release's outcome, a delivery's status.
 *
 * Messages are written for the client that sent the request (they reach it as `error.message`).
 */
export abstract class JobRefusal extends Error {}

/** No job with this id: never created, or its document expired. */
export class JobNotFound extends JobRefusal {
  constructor(readonly jobId: string) {
    super(`no job ${jobId} (unknown, or expired after JOB_TTL_SECONDS)`);
  }
}

/** A start with an idempotency key already used for other input. */
export class IdempotencyConflict extends JobRefusal {
  constructor(readonly jobId: string) {
    super(`idempotencyKey was already used for job ${jobId} with different input`);
  }
}

/** A heartbeat, or a completion with another outcome, for a job that is already final. */
export class JobAlreadyFinal extends JobRefusal {
  constructor(
    readonly jobId: string,
    readonly status: FinalJobStatus,
    /** What was refused, e.g. "a heartbeat is only for a pending job". */
    detail: string,
  ) {
    super(`job ${jobId} is already ${status}; ${detail}`);
  }
}

/** A result larger than a Studio reply can carry. */
export class ResultTooLarge extends JobRefusal {
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`result is ${bytes} bytes of JSON; at most ${limit} fit in a Studio reply (64 KB)`);
  }
}

/** The job is final, but its outcome has not reached the messaging flow yet: the sender repeats the request. */
export class DeliveryPending extends JobRefusal {
  constructor(
    readonly jobId: string,
    status: JobStatus,
    reason: string,
    /** Seconds to wait before sending the same request again. */
    readonly retryAfterSeconds: number,
  ) {
    super(
      `job ${jobId} is ${status}, but its outcome has not reached Studio yet (${reason}); send the same request again`,
    );
  }
}
