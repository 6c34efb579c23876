/**
 * The fixed settings of a run: what the service and its stand-ins are made to do, which the
 * measurements use and the report's prose describes. A run's results repeat the first three
 * (`settings` in bench/results/summary.json).
 */

/** Injected per Twilio call by the latency proxy, half each way. */
export const LATENCY_MS = 80;

/** How long the benchmark backend takes to accept a dispatch (or answer a status poll). */
export const BACKEND_ACCEPT_MS = 200;

/** DISPATCH_TIMEOUT_MS's default: how long /jobs/start waits for a backend that does not answer. */
export const DISPATCH_TIMEOUT_MS = 1000;

/** Callers whose hold loops the poll and simulated release cases drive at once. */
export const LOOP_RELEASE_CALLERS = 12;

/** The scale section's hold-loop period, shortened from the music's length so a step takes seconds. */
export const SCALE_LOOP_PERIOD_MS = 1500;
