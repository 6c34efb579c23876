/**
 * The backend the benchmarks dispatch to: the example backend (backends/example-backend.ts)
 * configured with timing the benchmark controls.
 *
 * Per job, from its input (Studio parameters arrive as strings):
 * - `benchMode=push` (default): answers 202 after `acceptDelayMs`; completes only when the
 *   benchmark calls complete(), or by itself after `completeAfterMs` when that is given;
 * - `benchMode=poll`: answers 202 + statusUrl + Retry-After: 1 after `acceptDelayMs`; its status
 *   turns COMPLETED at `readyAfterMs` after the dispatch (or when markReady() is called);
 * - `benchMode=hang`: never answers the dispatch.
 * `resultBytes` pads the result to about that many bytes of JSON.
 */
import { startExampleBackend, type JobPlan } from '../../backends/example-backend';
import type { DispatchRequest } from '../../src/lib/contracts';

export interface BenchBackendOptions {
  secret: string;
  /** How long every answer to a dispatch or status poll takes (a real backend's own latency). */
  acceptDelayMs: number;
}

export interface CompletionSent {
  jobId: string;
  /** performance.now() when the completion left and when /jobs/complete answered. */
  sentAt: number;
  answeredAt: number;
  status: number;
  body: unknown;
}

export interface BenchBackend {
  url: string;
  dispatches: Map<string, DispatchRequest>;
  /** performance.now() at which a poll-mode job's status turned COMPLETED. */
  readyAt: Map<string, number>;
  complete(jobId: string): Promise<CompletionSent>;
  /** Poll mode: the status turns COMPLETED now. */
  markReady(jobId: string): void;
  close(): Promise<void>;
}

/** How long a completion is sent again after no answer, a 429 or a 5xx. */
const COMPLETION_RETRY_MS = 20_000;

/** A time given in the input, or undefined (then only the benchmark says when). */
function msOf(raw: unknown): number | undefined {
  const ms = Number(raw);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

/** The benchmark's words (`benchMode`, `readyAfterMs`, `completeAfterMs`) as a job plan. */
export function benchPlan(input: Record<string, unknown>): JobPlan {
  const mode = String(input.benchMode ?? 'push');
  const plan = {
    outcome: 'COMPLETED',
    sendTwice: false,
    offerCancelUrl: false,
    resultBytes: Number(input.resultBytes ?? 0),
  } as const;
  if (mode === 'hang') return { ...plan, answer: 'hang' };
  if (mode === 'poll') return { ...plan, answer: 'poll', doneAfterMs: msOf(input.readyAfterMs) };
  return { ...plan, answer: 'push', doneAfterMs: msOf(input.completeAfterMs) };
}

export async function startBenchBackend(options: BenchBackendOptions): Promise<BenchBackend> {
  const backend = await startExampleBackend({
    secret: options.secret,
    planFor: benchPlan,
    answerDelayMs: options.acceptDelayMs,
    resultFor: (dispatch) => ({ answer: `done ${dispatch.jobId}`, items: [1, 2, 3] }),
    paddingFill: 'x',
    pendingStatus: { status: 'PENDING' },
    completionRetryMs: COMPLETION_RETRY_MS,
  });
  return {
    url: backend.url,
    dispatches: backend.dispatchByJob,
    readyAt: backend.readyAt,
    async complete(jobId) {
      const { sentAt, answeredAt, status, body } = await backend.completeJob(jobId);
      return { jobId, sentAt, answeredAt, status, body };
    },
    markReady: (jobId) => backend.markReady(jobId),
    close: () => backend.close(),
  };
}
