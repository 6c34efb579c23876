/**
 * Time inside one run: elapsed milliseconds since the call started, and waits that end early when
 * the run is interrupted. Every timer is cleared when its wait ends, so a finished run leaves none.
 * Waits use node's own timer (node:timers/promises), which clears itself when its signal aborts.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** Why a run stopped before its flow ended on its own. */
export type Interruption =
  | { kind: 'hangup' }
  /** a TwiML Redirect widget's own `timeout` (only that widget stops) */
  | { kind: 'widget-timeout' }
  /** a REST update of the call gave it new TwiML: the document in progress is abandoned */
  | { kind: 'redirected' }
  | { kind: 'run-timeout'; afterMs: number }
  | { kind: 'aborted'; reason: string };

/** Thrown out of any wait or request when the run is interrupted. */
export class RunInterrupted extends Error {
  constructor(readonly interruption: Interruption) {
    super(`run interrupted: ${interruption.kind}`);
    this.name = 'RunInterrupted';
  }
}

export function interruptionOf(signal: AbortSignal): Interruption {
  const reason: unknown = signal.reason;
  if (reason instanceof RunInterrupted) return reason.interruption;
  return { kind: 'aborted', reason: reason instanceof Error ? reason.message : String(reason) };
}

export function throwIfInterrupted(signal: AbortSignal): void {
  if (signal.aborted) throw new RunInterrupted(interruptionOf(signal));
}

/** A wait inside the run: resolves after `ms`, or rejects with RunInterrupted as soon as `signal` aborts. */
export async function waitInRun(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(Math.max(0, ms), undefined, { signal });
  } catch (error) {
    if (signal.aborted) throw new RunInterrupted(interruptionOf(signal));
    throw error;
  }
}

const SETTLED = Symbol('settled');

/**
 * Waits up to `ms` or until `early` settles, whichever comes first; resolves true when `early`
 * won. Rejects with RunInterrupted when `signal` aborts.
 */
export async function sleepUnless(ms: number, early: Promise<unknown>, signal: AbortSignal): Promise<boolean> {
  const local = new AbortController();
  const onAbort = () => local.abort(signal.reason);
  if (signal.aborted) throw new RunInterrupted(interruptionOf(signal));
  signal.addEventListener('abort', onAbort, { once: true });
  const timerDone = sleep(Math.max(0, ms), undefined, { signal: local.signal }).then(
    () => false,
    (error: unknown) => {
      if (local.signal.reason === SETTLED) return false; // cleared below after `early` won
      throw error;
    },
  );
  try {
    return await Promise.race([timerDone, early.then(() => true)]);
  } catch (error) {
    if (signal.aborted) throw new RunInterrupted(interruptionOf(signal));
    throw error;
  } finally {
    signal.removeEventListener('abort', onAbort);
    local.abort(SETTLED); // clears the timer when `early` won
  }
}

/** A signal that aborts with `signal` or after `ms`; call clear() when done so no timer is left. */
export function withDeadline(signal: AbortSignal, ms: number, reason: string): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal.reason);
  if (signal.aborted) controller.abort(signal.reason);
  else signal.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => controller.abort(new Error(reason)), ms);
  return {
    signal: controller.signal,
    clear: () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    },
  };
}

export class RunClock {
  /** Epoch ms when the call started. */
  readonly startedAt = Date.now();

  /** Milliseconds since the call started. */
  now(): number {
    return Date.now() - this.startedAt;
  }
}

/** Waits for `promise`, or rejects with RunInterrupted as soon as `signal` aborts. */
export function unlessInterrupted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(new RunInterrupted(interruptionOf(signal)));
    const onAbort = () => reject(new RunInterrupted(interruptionOf(signal)));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
