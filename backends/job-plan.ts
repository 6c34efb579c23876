/**
 * What a backend does with a job, read from the job's input. The example backend's reading is
 * `planFromInput` (the words are in backends/README.md); the benchmark's backend reads its own
 * words into the same plan (bench/lib/backend.ts).
 */
import type { HeartbeatRequest } from '../src/lib/contracts';

/**
 * How the dispatch is answered: `push` 202 (the completion follows by itself after `doneAfterMs`,
 * or when told), `poll` 202 + statusUrl (the status turns final after `doneAfterMs`, or when
 * told), `inline` 200 with the outcome, `reject` 400, `error` 500, `hang` never.
 */
export type DispatchAnswer = 'push' | 'poll' | 'inline' | 'reject' | 'error' | 'hang';

export interface JobPlan {
  answer: DispatchAnswer;
  outcome: 'COMPLETED' | 'FAILED';
  /** When the work is done, ms after the dispatch is answered; undefined: only when the test says so. */
  doneAfterMs?: number;
  /** Push: the completion is sent twice (100 ms apart). */
  sendTwice: boolean;
  /** The dispatch answer carries a `cancelUrl` (`/cancel/<jobId>`). */
  offerCancelUrl: boolean;
  /** The result is padded to about this many bytes of JSON. */
  resultBytes: number;
  /** Push: heartbeats sent while the work runs. */
  heartbeats?: { everyMs: number; messages: string[] };
}

const DEFAULT_DELAY_MS = 200;
const DEFAULT_PROGRESS_EVERY_MS = 3000;
const MIN_PROGRESS_EVERY_MS = 100;
const DEFAULT_PROGRESS_MESSAGES =
  'We are looking up your order.|Your order is being checked now.|Nearly there: preparing your answer.';
const ANSWERED_AS_NAMED: readonly string[] = ['poll', 'inline', 'reject', 'error', 'hang'];

/** Studio parameters arrive as strings: `true` and `'true'` both say yes. */
function flag(value: unknown): boolean {
  return value === 'true' || value === true;
}

/** The example backend's reading of a job input (`behaviour`, `delayMs`, `resultBytes`, ...). */
export function planFromInput(input: Record<string, unknown>): JobPlan {
  const behaviour = String(input.behaviour ?? 'push');
  const everyMs = Math.max(
    MIN_PROGRESS_EVERY_MS,
    Number(input.progressEveryMs ?? DEFAULT_PROGRESS_EVERY_MS) || DEFAULT_PROGRESS_EVERY_MS,
  );
  const messages = String(input.progressMessages ?? DEFAULT_PROGRESS_MESSAGES)
    .split('|')
    .filter((m) => m.trim() !== '');
  return {
    // `push`, `fail`, `manual`, `progress` and any other word are answered as push.
    answer: ANSWERED_AS_NAMED.includes(behaviour) ? (behaviour as DispatchAnswer) : 'push',
    outcome: behaviour === 'fail' ? 'FAILED' : 'COMPLETED',
    doneAfterMs: behaviour === 'manual' ? undefined : Number(input.delayMs ?? DEFAULT_DELAY_MS),
    sendTwice: flag(input.duplicate),
    offerCancelUrl: flag(input.cancelUrl),
    resultBytes: Number(input.resultBytes ?? 0),
    ...(behaviour === 'progress' ? { heartbeats: { everyMs, messages } } : {}),
  };
}

/**
 * The heartbeats of work that takes `doneAfterMs`: one every `everyMs` before it is done, with a
 * rising `progress`; the messages are spread over the work, the first ones early, the last near
 * the end.
 */
export function heartbeatSchedule(
  doneAfterMs: number,
  heartbeats: NonNullable<JobPlan['heartbeats']>,
): Array<{ at: number; sent: HeartbeatRequest }> {
  const { everyMs, messages } = heartbeats;
  const count = Math.ceil(doneAfterMs / everyMs) - 1;
  const schedule: Array<{ at: number; sent: HeartbeatRequest }> = [];
  for (let i = 0, at = everyMs; at < doneAfterMs; i++, at += everyMs) {
    const message = messages[Math.min(messages.length - 1, Math.floor((i * messages.length) / Math.max(1, count)))];
    schedule.push({
      at,
      sent: {
        status: 'PENDING',
        progress: Math.min(95, Math.round((at / doneAfterMs) * 100)),
        ...(message ? { message } : {}),
      },
    });
  }
  return schedule;
}
