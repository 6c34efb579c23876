/**
 * Fault injection for the Twilio request pipeline: the stage between the spec check and dispatch.
 *
 * A fault config is a list of rules; each rule picks requests by operation (the stats name, e.g.
 * `sync.documents.update`, or a prefix such as `sync.*`), then fires on chosen calls (`nth`), at a
 * chosen rate (seeded, so a run can be repeated), or on every call, at most `times` times. Kinds:
 *
 *   latency       the request is answered `ms` later (and goes on to the next rule, then dispatch)
 *   rate-limit    HTTP 429, code 54009 on Sync (Twilio's "too many requests" for a Sync object),
 *                 20429 elsewhere; the operation is not performed
 *   server-error  HTTP `status` (500 by default; 500, 502, 503 or 504), code 20500 / 20503
 *   timeout       nothing is answered for `ms` (default 15 s), then the connection is closed
 *   drop          the connection is closed without an answer
 *
 * `when: 'after'` performs the operation first and then loses or replaces its reply (a write
 * that happened although the client saw a failure, as happens with real networks);
 * `'before'` (the default) fails before anything is done; `'either'` picks one at random.
 * Rate limits are always `before`.
 */
import { json, type Reply } from './http-io';
import { isObject } from './json-values';
import type { Stage, TwilioRequest } from './pipeline';
import { ErrorCode, twilioErrorBody } from './twilio-errors';

export const FAULT_KINDS = ['latency', 'rate-limit', 'server-error', 'timeout', 'drop'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
export type FaultTiming = 'before' | 'after' | 'either';

export interface FaultRule {
  kind: FaultKind;
  /** Stats names (`sync.documents.update`), `prefix.*` patterns or `*`; omitted = every Twilio operation. */
  operation?: string | string[];
  /** Fire on these matching calls only (1-based, counted per rule). */
  nth?: number | number[];
  /** Fire with this probability (0..1), drawn from the config's seeded generator. */
  rate?: number;
  /** Fire at most this many times. */
  times?: number;
  /** latency: the added delay; timeout: how long nothing is answered. A number or [min, max]. */
  ms?: number | [number, number];
  /** server-error: the HTTP status, 500 (default), 502, 503 or 504. */
  status?: number;
  /** See the module comment; default `before`. */
  when?: FaultTiming;
}

export interface FaultConfig {
  /** Seed of the generator behind `rate`, `ms` ranges and `when: 'either'` (default 1). */
  seed?: number;
  rules?: FaultRule[];
}

export interface InjectedFault {
  at: string;
  operation: string;
  kind: FaultKind;
  when: 'before' | 'after';
  /** Index of the rule in the config. */
  rule: number;
  ms?: number;
  status?: number;
}

export interface FaultReport {
  config: FaultConfig;
  injected: {
    total: number;
    byKind: Record<string, number>;
    byOperation: Record<string, number>;
  };
  /** The most recent injected faults, oldest first (at most 200). */
  recent: InjectedFault[];
  /**
   * Faults by the resource they struck: the request path's last segment (a Call or Conference
   * SID, a document's unique name), so a check can tell which call's requests were faulted.
   */
  byResource: Record<string, number>;
}

/** A bad fault config: the message names the problem. */
export class FaultConfigError extends Error {}

/** Small, fast, seedable PRNG (mulberry32): the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SERVER_ERROR_STATUSES = new Set([500, 502, 503, 504]);
const DEFAULT_TIMEOUT_MS = 15_000;
const MAX_MS = 120_000;
const RECENT_KEPT = 200;

function checkMs(value: unknown, where: string): void {
  const ok = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n >= 0 && n <= MAX_MS;
  if (value === undefined) return;
  if (ok(value)) return;
  if (
    Array.isArray(value) &&
    value.length === 2 &&
    ok(value[0]) &&
    ok(value[1]) &&
    (value[0] as number) <= (value[1] as number)
  )
    return;
  throw new FaultConfigError(`${where}.ms must be milliseconds 0..${MAX_MS} or [min, max]`);
}

/** Checks a config from a test or the control API; throws FaultConfigError naming the problem. */
export function validateFaultConfig(raw: unknown): FaultConfig {
  if (!isObject(raw)) throw new FaultConfigError('the fault config must be a JSON object {seed?, rules?}');
  const unknownKeys = Object.keys(raw).filter((key) => key !== 'seed' && key !== 'rules');
  if (unknownKeys.length > 0) throw new FaultConfigError(`unknown fault config field(s): ${unknownKeys.join(', ')}`);
  if (raw.seed !== undefined && (typeof raw.seed !== 'number' || !Number.isInteger(raw.seed))) {
    throw new FaultConfigError('seed must be an integer');
  }
  if (raw.rules !== undefined && !Array.isArray(raw.rules)) throw new FaultConfigError('rules must be an array');
  const rules = (raw.rules ?? []) as unknown[];
  rules.forEach((rule, index) => {
    const where = `rules[${index}]`;
    if (!isObject(rule)) throw new FaultConfigError(`${where} must be an object`);
    const allowed = ['kind', 'operation', 'nth', 'rate', 'times', 'ms', 'status', 'when'];
    const extra = Object.keys(rule).filter((key) => !allowed.includes(key));
    if (extra.length > 0) throw new FaultConfigError(`${where} has unknown field(s): ${extra.join(', ')}`);
    if (!(FAULT_KINDS as readonly unknown[]).includes(rule.kind)) {
      throw new FaultConfigError(`${where}.kind must be one of ${FAULT_KINDS.join(', ')}`);
    }
    const ops = rule.operation === undefined ? [] : Array.isArray(rule.operation) ? rule.operation : [rule.operation];
    if (ops.length === 0 && rule.operation !== undefined)
      throw new FaultConfigError(`${where}.operation must not be empty`);
    if (!ops.every((op) => typeof op === 'string' && op !== '')) {
      throw new FaultConfigError(
        `${where}.operation must be a stats name like "sync.documents.update" or a list of them`,
      );
    }
    const nth = rule.nth === undefined ? [] : Array.isArray(rule.nth) ? rule.nth : [rule.nth];
    if (!nth.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 1)) {
      throw new FaultConfigError(`${where}.nth must be a call number (1 = the first matching call) or a list of them`);
    }
    if (rule.rate !== undefined && (typeof rule.rate !== 'number' || !(rule.rate >= 0 && rule.rate <= 1))) {
      throw new FaultConfigError(`${where}.rate must be a probability from 0 to 1`);
    }
    if (
      rule.times !== undefined &&
      (typeof rule.times !== 'number' || !Number.isInteger(rule.times) || rule.times < 0)
    ) {
      throw new FaultConfigError(`${where}.times must be a non-negative integer`);
    }
    checkMs(rule.ms, where);
    if (rule.status !== undefined && !SERVER_ERROR_STATUSES.has(rule.status as number)) {
      throw new FaultConfigError(`${where}.status must be 500, 502, 503 or 504`);
    }
    if (rule.when !== undefined && !['before', 'after', 'either'].includes(rule.when as string)) {
      throw new FaultConfigError(`${where}.when must be before, after or either`);
    }
  });
  return JSON.parse(JSON.stringify(raw)) as FaultConfig;
}

function matchesOperation(rule: FaultRule, operation: string): boolean {
  if (rule.operation === undefined) return true;
  const patterns = Array.isArray(rule.operation) ? rule.operation : [rule.operation];
  return patterns.some((pattern) =>
    pattern === '*' ? true : pattern.endsWith('*') ? operation.startsWith(pattern.slice(0, -1)) : operation === pattern,
  );
}

const sleep = (ms: number, timers: Set<NodeJS.Timeout>) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      resolve();
    }, ms);
    timer.unref();
    timers.add(timer);
  });

/** The fault stage and its state. One per emulator. */
export class FaultInjector {
  private config: FaultConfig = {};
  private random: () => number = seededRandom(1);
  private seen: number[] = [];
  private fired: number[] = [];
  private recent: InjectedFault[] = [];
  private total = 0;
  private byKind: Record<string, number> = {};
  private byOperation: Record<string, number> = {};
  private byResource: Record<string, number> = {};
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly hangs = new Set<() => void>();

  constructor(private readonly initial: FaultConfig = {}) {
    this.configure(initial);
  }

  /** Replaces the rules (and the generator's seed); counters of rules start again. */
  configure(raw: unknown): FaultConfig {
    const config = validateFaultConfig(raw);
    this.config = config;
    this.random = seededRandom(config.seed ?? 1);
    this.seen = (config.rules ?? []).map(() => 0);
    this.fired = (config.rules ?? []).map(() => 0);
    return config;
  }

  /** Back to the config the emulator started with, counters at zero; answers held requests. */
  reset(): void {
    this.releaseHeld();
    this.configure(this.initial);
    this.total = 0;
    this.byKind = {};
    this.byOperation = {};
    this.byResource = {};
    this.recent = [];
  }

  /** No rules at all, counters at zero. */
  clear(): void {
    this.reset();
    this.configure({});
  }

  /** Ends every held (timeout) request now: used when the emulator closes or resets. */
  releaseHeld(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const release of [...this.hangs]) release();
    this.hangs.clear();
  }

  report(): FaultReport {
    return {
      config: JSON.parse(JSON.stringify(this.config)) as FaultConfig,
      injected: { total: this.total, byKind: { ...this.byKind }, byOperation: { ...this.byOperation } },
      recent: [...this.recent],
      byResource: { ...this.byResource },
    };
  }

  private pickMs(value: number | [number, number] | undefined, fallback: number): number {
    if (value === undefined) return fallback;
    if (typeof value === 'number') return value;
    return Math.round(value[0] + (value[1] - value[0]) * this.random());
  }

  private note(fault: Omit<InjectedFault, 'at'>, path: string): void {
    const resource = decodeURIComponent(path.split('?')[0]!.split('/').pop() ?? '').replace(/\.json$/, '');
    this.byResource[resource] = (this.byResource[resource] ?? 0) + 1;
    this.total += 1;
    this.byKind[fault.kind] = (this.byKind[fault.kind] ?? 0) + 1;
    this.byOperation[fault.operation] = (this.byOperation[fault.operation] ?? 0) + 1;
    this.recent.push({ at: new Date().toISOString(), ...fault });
    if (this.recent.length > RECENT_KEPT) this.recent.splice(0, this.recent.length - RECENT_KEPT);
  }

  /** Whether rule `index` fires on this call (counts the call either way). */
  private fires(index: number, rule: FaultRule): boolean {
    this.seen[index] += 1;
    if (rule.times !== undefined && this.fired[index] >= rule.times) return false;
    if (rule.nth !== undefined) {
      const nth = Array.isArray(rule.nth) ? rule.nth : [rule.nth];
      if (!nth.includes(this.seen[index])) return false;
    }
    if (rule.rate !== undefined && !(this.random() < rule.rate)) return false;
    this.fired[index] += 1;
    return true;
  }

  /** Nothing is answered for `ms`, then the connection is closed (or earlier, on reset/close). */
  private hold(ms: number): Promise<Reply> {
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.timers.delete(timer);
        this.hangs.delete(finish);
        resolve({ kind: 'drop' });
      };
      const timer = setTimeout(finish, ms);
      timer.unref();
      this.timers.add(timer);
      this.hangs.add(finish);
    });
  }

  private errorReply(rule: FaultRule, operation: string): Reply {
    if (rule.kind === 'rate-limit') {
      const code = operation.startsWith('sync.') ? ErrorCode.syncRateLimited : ErrorCode.tooManyRequests;
      return json(429, twilioErrorBody(429, code, 'Too many requests: the rate limit was exceeded (injected fault)'), {
        'Retry-After': '1',
      });
    }
    const status = rule.status ?? 500;
    const code = status === 503 ? ErrorCode.serviceUnavailable : ErrorCode.internal;
    return json(status, twilioErrorBody(status, code, `Twilio had an internal problem (injected ${status})`));
  }

  /**
   * The pipeline stage. `next` performs the operation (dispatch), for faults that strike after
   * it; the reply the stage returns still goes through the emulator's reply check.
   */
  stage(next: (request: TwilioRequest) => Reply | Promise<Reply>): Stage {
    return async (request) => {
      const rules = this.config.rules ?? [];
      const operation = request.operationName;
      for (let index = 0; index < rules.length; index++) {
        const rule = rules[index]!;
        if (!matchesOperation(rule, operation) || !this.fires(index, rule)) continue;
        if (rule.kind === 'latency') {
          const ms = this.pickMs(rule.ms, 200);
          this.note({ operation, kind: 'latency', when: 'before', rule: index, ms }, request.path);
          await sleep(ms, this.timers);
          continue;
        }
        const timing = rule.kind === 'rate-limit' ? 'before' : (rule.when ?? 'before');
        const when = timing === 'either' ? (this.random() < 0.5 ? 'before' : 'after') : timing;
        const performed = when === 'after' ? await next(request) : undefined;
        switch (rule.kind) {
          case 'rate-limit':
          case 'server-error':
            this.note(
              {
                operation,
                kind: rule.kind,
                when,
                rule: index,
                ...(rule.kind === 'server-error' ? { status: rule.status ?? 500 } : {}),
              },
              request.path,
            );
            return this.errorReply(rule, operation);
          case 'drop':
            this.note({ operation, kind: 'drop', when, rule: index }, request.path);
            return { kind: 'drop' };
          case 'timeout': {
            const ms = this.pickMs(rule.ms, DEFAULT_TIMEOUT_MS);
            this.note({ operation, kind: 'timeout', when, rule: index, ms }, request.path);
            void performed;
            return this.hold(ms);
          }
        }
      }
      return undefined;
    };
  }
}
