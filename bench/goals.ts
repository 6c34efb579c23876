/**
 * The goals the benchmarks measure against, each stated once. The measurements judge their own
 * steps by them (a scale step, a capacity level) and the report prints and checks them
 * (docs/BENCHMARKS.md, README.md's capacity section).
 */

/** /jobs/start: p99 reply time, the backend answering or hanging (1, 10, 100 callers; scale steps). */
export const START_GOAL_MS = 1500;

/** /jobs/start: p99 within this factor of its floor (sequential Twilio calls + the backend). */
export const START_FLOOR_FACTOR = 1.2;

/** Hold release after a push completion (and the naive baseline's): Twilio round trips. */
export const RELEASE_ROUND_TRIPS_GOAL = 2;

/** Cold start: each built function loads within this in a fresh node process (p50). */
export const COLD_LOAD_GOAL_MS = 100;

/** Scale: Sync's limit of writes per second to one object, which no document may reach. */
export const SYNC_WRITES_PER_SECOND_LIMIT = 20;

/** Capacity: callers on hold one service sustains... */
export const HELD_CALLERS_GOAL = 1000;
/** ...with every hold-loop turn answered within this (p99). */
export const TURN_P99_GOAL_MS = 1000;

/** Capacity: text conversations waiting at once for push jobs (the outcome starts the flow again). */
export const CONVERSATIONS_GOAL = 300;
