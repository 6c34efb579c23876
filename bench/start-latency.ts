/**
 * Part 2: how long /jobs/start takes to answer Studio, with 80 ms per Twilio call and a backend
 * that accepts in 200 ms (or never answers), at 1, 10 and 100 concurrent callers, with
 * twilio-run forking a process per request and with one warm process.
 *
 * Closed loop: `concurrency` callers each start a job, wait for the reply, start the next.
 */
import { summarize, pool, type Summary } from './lib/stats';
import type { BenchStack } from './lib/stack';

export type BackendKind = 'accepts in 200 ms' | 'hangs';

export interface StartLatencyRow {
  mode: BenchStack['mode'];
  backend: BackendKind;
  concurrency: number;
  summary: Summary;
  errors: number;
  errorSamples: string[];
  /** Sequential Twilio calls x latency + what the backend makes it wait. */
  floorMs: number;
  /** p50 and p99 over the floor. */
  p50OverFloor: number;
  p99OverFloor: number;
  wallMs: number;
}

export interface StartFloor {
  twilioCalls: number;
  latencyMs: number;
  backendMs: number;
}

export function startFloorMs(floor: StartFloor): number {
  return floor.twilioCalls * floor.latencyMs + floor.backendMs;
}

export async function measureStartLatency(
  stack: BenchStack,
  options: { backend: BackendKind; concurrency: number; requests: number; floor: StartFloor; deadline: number },
): Promise<StartLatencyRow> {
  const samples: number[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  const input =
    options.backend === 'hangs' ? { task: 'bench', benchMode: 'hang' } : { task: 'bench', benchMode: 'push' };
  const began = performance.now();
  await pool(options.requests, options.concurrency, async () => {
    if (Date.now() > options.deadline) return;
    try {
      const answer = await stack.post('/jobs/start', input);
      if (answer.status !== 200 || answer.body?.status !== 'PENDING') {
        errors++;
        if (errorSamples.length < 3) errorSamples.push(`${answer.status} ${answer.text.slice(0, 160)}`);
      } else {
        samples.push(answer.ms);
      }
    } catch (error) {
      errors++;
      if (errorSamples.length < 3) errorSamples.push((error as Error).message);
    }
  });
  const summary = summarize(samples);
  const floorMs = startFloorMs(options.floor);
  return {
    mode: stack.mode,
    backend: options.backend,
    concurrency: options.concurrency,
    summary,
    errors,
    errorSamples,
    floorMs,
    p50OverFloor: Math.round((summary.p50 / floorMs) * 100) / 100,
    p99OverFloor: Math.round((summary.p99 / floorMs) * 100) / 100,
    wallMs: Math.round(performance.now() - began),
  };
}
