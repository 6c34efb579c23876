/**
 * Every time budget, timeout, reserve, pace and cap of the service, in one place, so that one
 * reading shows they fit inside Studio's Run Function limit: Studio gives up on a function after
 * 10 s (and Twilio stops it there).
 *
 *   REQUEST_BUDGET_MS ................................. 8 000 ms  all the work of one invocation
 *   margin for the runtime and the network ............ 2 000 ms  cold start, reply back to Studio
 *                                                      --------
 *                                                      10 000 ms  Studio's limit
 *
 * Nothing inside a request may outlive its budget, because every wait and every outbound call
 * draws on it (runtime/budget.ts):
 *
 *   a Twilio API call ........ min(TWILIO_CALL_TIMEOUT_MS 3 000, what is left); not started with
 *                              less than MIN_TWILIO_CALL_MS 250 left; retried (TWILIO_RETRY) only
 *                              when the backoff plus MIN_TWILIO_CALL_MS still fits
 *   the dispatch ............. min(DISPATCH_TIMEOUT.maxMs 5 000, left - AFTER_DISPATCH_RESERVE_MS)
 *   a poll of a backend ...... min(BACKEND_POLL_TIMEOUT_MS 2 000, left - AFTER_POLL_RESERVE_MS)
 *   a cancel event ........... min(dispatch timeout, left - AFTER_CANCEL_RESERVE_MS)
 *   a wait for the job ....... ends WAIT_RESERVE_MS 2 500 before the budget does (/jobs/start's
 *                              fast finish, LIMITS.startWaitSeconds 5 s at most; /jobs/status's
 *                              long-poll, LIMITS.statusWaitSeconds 8 s at most)
 *
 * So in the longest /jobs/start the dispatch is over by 8 000 - 2 500 = 5 500 ms at the latest
 * (or not attempted), and so is the fast-finish wait; the last read, the result and the reply
 * have the remaining 2 500 ms, and a Twilio call that would not fit is refused by the budget
 * rather than run late: 8 000 ms, plus the 2 000 ms margin, 10 000 ms. Each turn of the hold
 * loop (TwiML, not Run Function) is an invocation with the same budget; the caller's time on
 * hold is bounded by the job's deadline.
 */

// The invocation.

/** What one invocation may spend on its own work (see above for the remaining 2 000 ms). */
export const REQUEST_BUDGET_MS = 8_000;

/** Longest one Twilio API call may take (a healthy one takes a small fraction of this). */
export const TWILIO_CALL_TIMEOUT_MS = 3_000;

/** A Twilio call is not started with less than this left: it could not finish in time. */
export const MIN_TWILIO_CALL_MS = 250;

/** Repeats of a Twilio call that may be repeated: jittered exponential backoff from baseDelayMs. */
export const TWILIO_RETRY = { attempts: 3, baseDelayMs: 150 } as const;

// Reserves: what a step leaves of the budget for the steps after it.

/** A wait for a job (fast finish, status long-poll) ends this long before the budget, to read and reply. */
export const WAIT_RESERVE_MS = 2_500;
/** Kept after a dispatch for recording its answer. */
export const AFTER_DISPATCH_RESERVE_MS = 2_500;
/** Kept after a poll of the backend for the caller's reply. */
export const AFTER_POLL_RESERVE_MS = 1_500;
/** Kept after a cancel event for recording how it went and answering. */
export const AFTER_CANCEL_RESERVE_MS = 1_500;

// The backend.

/** DISPATCH_TIMEOUT_MS: its default and the range the setting accepts. */
export const DISPATCH_TIMEOUT = { defaultMs: 1_000, minMs: 100, maxMs: 5_000 } as const;
/** Longest one poll of a poll-mode backend's statusUrl may take. */
export const BACKEND_POLL_TIMEOUT_MS = 2_000;
/** A call to the backend is not started with less than this left of its time (a dispatch attempt; a poll or cancel event). */
export const MIN_BACKEND_CALL_MS = { dispatch: 50, other: 100 } as const;
/** A backend's Retry-After: the default when it gives none (or a bad one), and the most we honour. */
export const BACKEND_RETRY_AFTER = { defaultSeconds: 5, maxSeconds: 60 } as const;

// Paces: how often a waiting request looks again.

/** Waiting for a pushed completion re-reads the job at this pace. */
export const PUSH_WAIT_POLL_MS = 400;
/** The /jobs/status long-poll looks again at the job's retryAfter, but at least this often. */
export const STATUS_WAIT_POLL_MAX_MS = 2_000;
/** The retryAfter a client is told while a job is pending: the default, and the most (never past the deadline). */
export const RETRY_AFTER = { defaultSeconds: 5, maxSeconds: 30 } as const;

// Races between a completion and the hold loop.

/** A completion this close to the deadline releases after its write: a deadline turn may race it. */
export const RELEASE_RACE_WINDOW_MS = 5_000;
/** A hold turn leaves a job a completion finalized less than this ago to that completion's release. */
export const COMPLETION_RELEASE_GRACE_MS = 3_000;

// The hold loop (TwiML).

/**
 * Seconds past the deadline before Twilio's <Dial timeLimit> would cut the caller out itself:
 * at least `minSeconds`, and always `pastPeriodSeconds` more than one hold-loop period (the
 * music's length), since the first turn past the deadline may come that late. Only a last resort:
 * the hold loop moves the caller out at that turn, and whether timeLimit bounds a conference at all
 * is not documented.
 */
export const DIAL_LIMIT_MARGIN = { minSeconds: 30, pastPeriodSeconds: 20 } as const;
/** Turns of music /hold plays while Twilio's API is failing, before handing the call back to Studio. */
export const UNAVAILABLE_RETRY_TURNS = 3;

// Handing an outcome to a messaging flow.

/**
 * How long a delivery claim keeps others from starting the execution: longer than any Function
 * lives (Twilio stops one at 10 s), so a claim that has run out belongs to a request that is gone.
 */
export const DELIVERY_CLAIM_MS = 15_000;
/**
 * Retry-After a backend is told while a job's outcome has not reached Studio: `claimed`, another
 * request is starting the execution (usually settled within a second); `noTimeLeft`, the request
 * ran out of budget; `contactActive`, the contact is mid-conversation; `refused`, Studio refused
 * the start; `transient`, Studio was unreachable, rate limited or failing.
 */
export const DELIVERY_RETRY_AFTER_SECONDS = {
  claimed: 1,
  noTimeLeft: 1,
  contactActive: 5,
  refused: 5,
  transient: 2,
} as const;
/** Studio's clock and ours may differ a little: a search for an execution starts this much earlier. */
export const STUDIO_CLOCK_SLACK_MS = 5_000;
