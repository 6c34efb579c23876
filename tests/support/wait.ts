/** Waiting in tests: a pause, and polling until something holds. */
import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

/** Polls `probe` every `everyMs` until it gives a value (not undefined or false); fails after `timeoutMs`. */
export async function waitFor<T>(probe: () => T | undefined | false, timeoutMs = 3000, everyMs = 10): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('waitFor: timed out');
    await sleep(everyMs);
  }
}

/** Reads a job's status until it is no longer PENDING, or `timeoutMs` has passed: the last status read. */
export async function untilNotPending(read: () => Promise<any>, timeoutMs: number, everyMs: number): Promise<any> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const status = await read();
    if (status?.status !== 'PENDING' || Date.now() > until) return status;
    await sleep(everyMs);
  }
}
