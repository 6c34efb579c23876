import { AsyncLocalStorage } from 'node:async_hooks';
import { REQUEST_BUDGET_MS } from '../timing';

/**
 * The invocation's time budget. Studio gives up on a function after 10 s and Twilio stops it
 * there; each invocation gets REQUEST_BUDGET_MS for its own work (timing.ts adds up the rest).
 * Every Twilio API call, backend call and wait inside a request draws on the same budget.
 */

interface Invocation {
  deadline: number;
  /** Work started during the invocation that must end before it answers (nothing runs after callback()). */
  unfinished: Promise<unknown>[];
}

const invocations = new AsyncLocalStorage<Invocation>();

/**
 * Runs one invocation with its time budget (functions may run concurrently in one process).
 * Resolves once `run` has and every piece of work it handed to `finishBeforeReply` has ended.
 */
export async function withRequestBudget<T>(run: () => Promise<T>, budgetMs: number = REQUEST_BUDGET_MS): Promise<T> {
  const invocation: Invocation = { deadline: Date.now() + budgetMs, unfinished: [] };
  return invocations.run(invocation, async () => {
    try {
      return await run();
    } finally {
      // Work may hand on more work while it runs: wait until none is left.
      while (invocation.unfinished.length > 0) await Promise.allSettled(invocation.unfinished.splice(0));
    }
  });
}

/**
 * Lets `work` run alongside the rest of the request; the function answers only once it has
 * ended (Twilio stops a function at callback()). Its failure is logged, never the reply's.
 */
export function finishBeforeReply(work: Promise<unknown>, what: string): void {
  const guarded = work.catch((error: unknown) =>
    console.warn(`${what} failed: ${error instanceof Error ? error.message : String(error)}`),
  );
  invocations.getStore()?.unfinished.push(guarded);
}

/** Milliseconds left in the current invocation's budget (Infinity outside one). */
export function budgetLeft(now: number = Date.now()): number {
  const deadline = invocations.getStore()?.deadline;
  return deadline === undefined ? Number.POSITIVE_INFINITY : deadline - now;
}
