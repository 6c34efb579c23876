import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Studio gives up on a function after 10 s and Twilio stops it there. Each invocation gets this
 * much for its own work; the rest is margin for the runtime and the network. Every Twilio API
 * call, backend call and wait inside a request draws on the same budget.
 */
export const REQUEST_BUDGET_MS = 8_000;

const deadlines = new AsyncLocalStorage<number>();

/** Runs one invocation with its time budget (functions may run concurrently in one process). */
export function withRequestBudget<T>(run: () => Promise<T>, budgetMs: number = REQUEST_BUDGET_MS): Promise<T> {
  return deadlines.run(Date.now() + budgetMs, run);
}

/** Milliseconds left in the current invocation's budget (Infinity outside one). */
export function budgetLeft(now: number = Date.now()): number {
  const deadline = deadlines.getStore();
  return deadline === undefined ? Number.POSITIVE_INFINITY : deadline - now;
}

/** A Twilio call that could not start (or finish) inside the invocation's budget. */
export class BudgetExhaustedError extends Error {
  override readonly name = 'BudgetExhaustedError';
}

/** A Twilio call is not started with less than this left: it could not finish in time. */
export const MIN_TWILIO_CALL_MS = 250;
