/**
 * Faults a backend injects into its own answers (for reliability tests), chosen per job by its
 * input or for every job by option:
 * - input `dispatchFault` / `statusFault`: `latency:<ms>`, `error` (HTTP 500), `503`, `hang` (no
 *   answer), `drop` (connection closed before the work is taken), `drop-after` (dispatch only:
 *   the work is taken, then the connection is closed, so the service never hears the answer);
 * - input `dispatchFaultTimes` / `statusFaultTimes`: on how many attempts (default 1 for
 *   dispatch, every poll for status);
 * - option `faults`: the same kinds at a seeded rate on every dispatch / status request.
 */
import type http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { seededRandom } from '../emulator/faults';

export type BackendFaultKind = 'latency' | 'error' | '503' | 'hang' | 'drop' | 'drop-after';
export const BACKEND_FAULT_KINDS: readonly BackendFaultKind[] = [
  'latency',
  'error',
  '503',
  'hang',
  'drop',
  'drop-after',
];

export interface BackendFaultPlan {
  /** Probability (0..1) that a request gets a fault. */
  rate: number;
  /** Kinds drawn from evenly. */
  kinds: BackendFaultKind[];
  /** Added delay for `latency` (default 300 ms). */
  latencyMs?: number;
}

export interface BackendFaultOptions {
  seed?: number;
  dispatch?: BackendFaultPlan;
  status?: BackendFaultPlan;
}

export type FaultSite = 'dispatch' | 'status';

export interface BackendFault {
  kind: BackendFaultKind;
  ms: number;
}

const DEFAULT_LATENCY_MS = 300;

/** `latency:300` -> {kind: 'latency', ms: 300}; unknown words -> undefined. */
function parseFault(raw: unknown): BackendFault | undefined {
  if (typeof raw !== 'string' || raw === '') return undefined;
  const [word, ms] = raw.split(':');
  if (!(BACKEND_FAULT_KINDS as readonly string[]).includes(word!)) return undefined;
  return { kind: word as BackendFaultKind, ms: Number(ms ?? DEFAULT_LATENCY_MS) || DEFAULT_LATENCY_MS };
}

/** Picks, counts and applies a backend's faults. */
export class BackendFaults {
  /** Faults injected, by where and kind (`dispatch:drop`, `status:error`, ...). */
  readonly injected: Record<string, number> = {};
  private readonly random: () => number;

  constructor(private readonly options: BackendFaultOptions = {}) {
    this.random = seededRandom(options.seed ?? 7);
  }

  count(site: FaultSite, kind: BackendFaultKind): void {
    const key = `${site}:${kind}`;
    this.injected[key] = (this.injected[key] ?? 0) + 1;
  }

  /** The fault (if any) for this request: per-job input first, then the seeded plan. */
  pick(site: FaultSite, input: Record<string, unknown> | undefined, attempt: number): BackendFault | undefined {
    const fromInput = parseFault(input?.[`${site}Fault`]);
    if (fromInput) {
      const timesRaw = input?.[`${site}FaultTimes`];
      const times = timesRaw === undefined ? (site === 'dispatch' ? 1 : Number.POSITIVE_INFINITY) : Number(timesRaw);
      if (attempt <= times) return fromInput;
    }
    const plan = this.options[site];
    if (plan && plan.kinds.length > 0 && this.random() < plan.rate) {
      const kind = plan.kinds[Math.floor(this.random() * plan.kinds.length)]!;
      return { kind, ms: plan.latencyMs ?? DEFAULT_LATENCY_MS };
    }
    return undefined;
  }

  /** Applies a fault that strikes before the request is handled; true when the request is done with. */
  async strikeBefore(
    site: FaultSite,
    fault: BackendFault | undefined,
    request: http.IncomingMessage,
    response: http.ServerResponse,
  ): Promise<boolean> {
    if (!fault || fault.kind === 'drop-after') return false;
    this.count(site, fault.kind);
    switch (fault.kind) {
      case 'latency':
        await sleep(fault.ms);
        return false;
      case 'error':
        response.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"injected failure"}');
        return true;
      case '503':
        response
          .writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' })
          .end('{"error":"injected unavailability"}');
        return true;
      case 'hang':
        return true; // never answers; the service's timeout must cope
      case 'drop':
        request.socket.destroy();
        return true;
    }
  }
}
