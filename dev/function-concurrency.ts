/**
 * Twilio's guidance gives a Functions service 30 concurrent executions. twilio-run and the
 * in-process host have no such limit, so both local hosts count in-flight executions here and
 * refuse the ones past the cap (chaos/function-host.ts in-process, dev/function-gate.ts in
 * front of twilio-run).
 *
 * What the platform answers past its limit is not documented: the hosts answer 429 with
 * `Retry-After: 1` and `{"error":{"code":"CONCURRENCY_LIMIT",...}}` (docs/TWILIO-DIFFERENCES.md).
 *
 * The same counter keeps what a benchmark needs: every invocation (path, job, duration, status,
 * refused or not), the peak number in flight and how many were refused, read with `stats()`.
 */
import path from 'node:path';
import { listFiles } from './list-files';

/** Twilio's figure for one Functions service; what every command-line entry point uses by default. */
export const TWILIO_CONCURRENCY_CAP = 30;

export const CONCURRENCY_LIMIT_CODE = 'CONCURRENCY_LIMIT';

/** Seconds a refused caller is told to wait (the reply's Retry-After). */
export const REFUSAL_RETRY_AFTER_SECONDS = 1;

/** One function invocation as a host saw it. */
export interface Invocation {
  /** The URL path, e.g. `/hold/wait`. */
  path: string;
  /** The `jobId` of the URL's query, when it has one (hold-loop turns, completions). */
  jobId?: string;
  /** Epoch ms when the request arrived. */
  startedAt: number;
  /** How long the execution took; 0 when refused. */
  durationMs: number;
  /** The HTTP status answered (429 when refused). */
  status: number;
  refused: boolean;
}

/** What `stats()` returns: enough for execution-seconds per job and "refused == 0". */
export interface ConcurrencyStats {
  /** The cap in force; null: none (counted only). */
  cap: number | null;
  /** Executions running now. */
  inFlight: number;
  /** The most executions that ran at once. */
  peakInFlight: number;
  /** Invocations seen, admitted and refused. */
  total: number;
  refused: number;
  /** Refusals by path (e.g. how many hold-loop turns were refused). */
  refusedByPath: Record<string, number>;
  /** Sum of the admitted executions' durations, ms. */
  executionMs: number;
  /** Every invocation, in arrival order. */
  invocations: Invocation[];
}

/** The body of a refusal. */
export function refusalBody(cap: number): { error: { code: string; message: string } } {
  return {
    error: {
      code: CONCURRENCY_LIMIT_CODE,
      message: `this service already runs ${cap} function executions at once (its concurrency cap); try again shortly`,
    },
  };
}

/** The headers of a refusal (lower-case names). */
export const REFUSAL_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json',
  'retry-after': String(REFUSAL_RETRY_AFTER_SECONDS),
};

/**
 * Counts in-flight executions of one service. `cap` 0 or undefined: no cap (still counted).
 * `start()` admits an invocation and returns its `finish(status)`, or records a refusal and
 * returns undefined.
 */
export class ConcurrencyCounter {
  readonly cap: number | null;
  private inFlight = 0;
  private peak = 0;
  private records: Invocation[] = [];

  constructor(cap?: number) {
    if (cap !== undefined && (!Number.isInteger(cap) || cap < 0))
      throw new Error(`a concurrency cap is a non-negative integer, got ${cap}`);
    this.cap = cap ? cap : null;
  }

  start(urlPath: string, jobId?: string): ((status: number) => void) | undefined {
    const record: Invocation = {
      path: urlPath,
      ...(jobId ? { jobId } : {}),
      startedAt: Date.now(),
      durationMs: 0,
      status: 0,
      refused: false,
    };
    this.records.push(record);
    if (this.cap !== null && this.inFlight >= this.cap) {
      record.status = 429;
      record.refused = true;
      return undefined;
    }
    this.inFlight += 1;
    this.peak = Math.max(this.peak, this.inFlight);
    let finished = false;
    return (status: number) => {
      if (finished) return;
      finished = true;
      this.inFlight -= 1;
      record.status = status;
      record.durationMs = Date.now() - record.startedAt;
    };
  }

  stats(): ConcurrencyStats {
    const refusedByPath: Record<string, number> = {};
    let refused = 0;
    let executionMs = 0;
    for (const record of this.records) {
      if (record.refused) {
        refused += 1;
        refusedByPath[record.path] = (refusedByPath[record.path] ?? 0) + 1;
      } else executionMs += record.durationMs;
    }
    return {
      cap: this.cap,
      inFlight: this.inFlight,
      peakInFlight: this.peak,
      total: this.records.length,
      refused,
      refusedByPath,
      executionMs,
      invocations: this.records.map((record) => ({ ...record })),
    };
  }

  /** Forgets the figures (not the executions in flight), e.g. between benchmark sections. */
  resetStats(): void {
    this.records = [];
    this.peak = this.inFlight;
  }
}

/** `jobId` from a URL's query string (`a=1&jobId=JB...`), if present. */
export function jobIdOfQuery(search: string): string | undefined {
  const value = new URLSearchParams(search.startsWith('?') ? search.slice(1) : search).get('jobId');
  return value ? value : undefined;
}

/** The URL paths of the functions in a built functions folder (`jobs/start.protected.js` -> `/jobs/start`). */
export function functionPathsIn(functionsDir: string): string[] {
  return listFiles(functionsDir)
    .filter((file) => file.endsWith('.js'))
    .map(
      (file) =>
        '/' +
        path
          .relative(functionsDir, file)
          .split(path.sep)
          .join('/')
          .replace(/(\.protected|\.private)?\.js$/, ''),
    );
}

/** A `--concurrency-cap` value: a non-negative integer (0 = no cap). */
export function parseConcurrencyCap(raw: string | undefined, label = '--concurrency-cap'): number {
  const value = Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isInteger(value) || value < 0) {
    throw new Error(`${label} takes a non-negative integer (0 = no cap), got "${raw ?? ''}"`);
  }
  return value;
}
