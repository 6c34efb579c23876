import { setTimeout as sleep } from 'node:timers/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readSignedBody } from './signed-requests';
import { CANCEL_EVENT_TYPE, type CancelEvent, type CompletionRequest, type DispatchRequest, type HeartbeatRequest } from '../src/lib/contracts';
import { seededRandom } from './faults';

/**
 * A backend that speaks the dispatch/completion contract, for local runs, tests and benchmarks.
 * How it treats a job is chosen by the job's input `behaviour`:
 * - `push` (default): accepts with 202, then POSTs a signed completion after `delayMs`;
 * - `poll`: answers 202 + statusUrl + Retry-After, its status turns COMPLETED after `delayMs`;
 * - `inline`: answers 200 with the result at once;
 * - `fail`: like push, but completes with FAILED;
 * - `manual`: accepts with 202 and sends nothing (the test completes the job itself);
 * - `progress`: like push, and meanwhile POSTs a heartbeat (`status: PENDING`) every
 *   `progressEveryMs` (default 3000) with a rising `progress` and one of `progressMessages`
 *   (`|`-separated, spread over the work; default three short messages);
 * - `reject`: answers 400; `error`: answers 500; `hang`: never answers.
 * `resultBytes` pads the result to about that size. `duplicate=true` sends the completion twice.
 * `cancelUrl=true` adds a `cancelUrl` (`/cancel/<jobId>`) to the dispatch answer.
 *
 * It takes the service's cancel events (`type: job.cancelled`, signed) at its dispatch URL and at
 * the cancelUrls it gave out, counts them (`cancels`) and stops that job's work: no heartbeat or
 * completion follows.
 *
 * Like a well-behaved backend it treats a repeated dispatch of a job it already has as the same
 * job (one piece of work, one completion), and retries a completion that got no answer or a 5xx
 * (429 too; a 503 DELIVERY_PENDING is one), with backoff honouring Retry-After, for up to
 * `completionRetryMs`.
 *
 * Faults (for reliability tests), chosen per job by input or for every job by option:
 * - input `dispatchFault` / `statusFault`: `latency:<ms>`, `error` (HTTP 500), `503`, `hang` (no
 *   answer), `drop` (connection closed before the work is taken), `drop-after` (dispatch only:
 *   the work is taken, then the connection is closed, so the service never hears the answer);
 * - input `dispatchFaultTimes` / `statusFaultTimes`: on how many attempts (default 1 for
 *   dispatch, every poll for status);
 * - option `faults`: the same kinds at a seeded rate on every dispatch / status request.
 */
export type BackendFaultKind = 'latency' | 'error' | '503' | 'hang' | 'drop' | 'drop-after';
export const BACKEND_FAULT_KINDS: readonly BackendFaultKind[] = ['latency', 'error', '503', 'hang', 'drop', 'drop-after'];

export interface BackendFaultPlan {
  /** Probability (0..1) that a request gets a fault. */
  rate: number;
  /** Kinds drawn from evenly. */
  kinds: BackendFaultKind[];
  /** Added delay for `latency` (default 300 ms). */
  latencyMs?: number;
}

export interface ExampleBackendOptions {
  secret: string;
  /** Result for a job; defaults to a small object naming the job. */
  resultFor?: (dispatch: DispatchRequest) => Record<string, unknown>;
  /** Faults on every dispatch / status request at a seeded rate (on top of the per-job input). */
  faults?: { seed?: number; dispatch?: BackendFaultPlan; status?: BackendFaultPlan };
  /** How long a completion is retried after no answer or a 5xx/429 (default 20 s; 0 = once). */
  completionRetryMs?: number;
}

export interface ExampleBackend {
  url: string;
  /** Every dispatch received (a repeated dispatch of one job appears again). */
  dispatches: DispatchRequest[];
  /** Completions sent, with the HTTP status /jobs/complete finally answered (0: no answer). */
  completions: Array<{ jobId: string; status: number; body: unknown; attempts: number }>;
  /** Heartbeats sent (behaviour `progress`), with the HTTP status and body of the answer. */
  heartbeats: Array<{ jobId: string; sent: HeartbeatRequest; status: number; body: unknown }>;
  /** Cancel events received, where they came in, and their raw headers and body (to verify the signature again). */
  cancels: Array<CancelEvent & { via: 'cancelUrl' | 'dispatchUrl'; headers: Record<string, string>; rawBody: string }>;
  /** Results handed out, by job id, exactly as sent. */
  results: Map<string, Record<string, unknown>>;
  rejectedSignatures: number;
  /** Faults this backend injected, by kind and where (`dispatch:drop`, `status:error`, ...). */
  faultsInjected: Record<string, number>;
  /** Sends a signed completion now (retried like the backend's own); for tests that drive timing. */
  complete(callbackUrl: string, completion: CompletionRequest): Promise<{ status: number; body: unknown }>;
  close(): Promise<void>;
}

interface PollState {
  readyAt: number;
  outcome: CompletionRequest;
}

interface KnownJob {
  /** What the first dispatch was answered with, repeated for a repeated dispatch. */
  status: number;
  body: string;
  headers: Record<string, string>;
}


const DEFAULT_PROGRESS_MESSAGES = 'We are looking up your order.|Your order is being checked now.|Nearly there: preparing your answer.';

function padResult(base: Record<string, unknown>, bytes: number): Record<string, unknown> {
  const size = Buffer.byteLength(JSON.stringify(base));
  return bytes > size ? { ...base, padding: 'ü'.repeat(Math.floor((bytes - size - 14) / 2)) } : base;
}


/** `latency:300` -> {kind: 'latency', ms: 300}; unknown words -> undefined. */
function parseFault(raw: unknown): { kind: BackendFaultKind; ms: number } | undefined {
  if (typeof raw !== 'string' || raw === '') return undefined;
  const [word, ms] = raw.split(':');
  if (!(BACKEND_FAULT_KINDS as readonly string[]).includes(word!)) return undefined;
  return { kind: word as BackendFaultKind, ms: Number(ms ?? 300) || 300 };
}

export async function startExampleBackend(options: ExampleBackendOptions): Promise<ExampleBackend> {
  const polls = new Map<string, PollState>();
  const known = new Map<string, KnownJob>();
  const attemptsByJob = new Map<string, { dispatch: number; status: number }>();
  const timers = new Set<NodeJS.Timeout>();
  /** Timers of a job's pending work (heartbeats, completion), stopped by its cancel event. */
  const jobTimers = new Map<string, Set<NodeJS.Timeout>>();
  const random = seededRandom(options.faults?.seed ?? 7);
  const retryForMs = options.completionRetryMs ?? 20_000;
  let closed = false;

  const backend: Omit<ExampleBackend, 'url' | 'close'> = {
    dispatches: [],
    completions: [],
    heartbeats: [],
    cancels: [],
    results: new Map(),
    rejectedSignatures: 0,
    faultsInjected: {},
    async complete(callbackUrl, completion) {
      // Plain JSON to the capability URL, exactly as the dispatch gave it: no signature needed.
      const body = JSON.stringify(completion);
      const giveUpAt = Date.now() + retryForMs;
      let last: { status: number; body: unknown } = { status: 0, body: undefined };
      for (let attempt = 1; ; attempt++) {
        let retryAfterMs = 0;
        try {
          const response = await fetch(callbackUrl, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
            signal: AbortSignal.timeout(12_000),
          });
          last = { status: response.status, body: await response.json().catch(() => undefined) };
          retryAfterMs = (Number(response.headers.get('retry-after')) || 0) * 1000;
        } catch {
          last = { status: 0, body: undefined };
        }
        // 503 DELIVERY_PENDING included: the same body again, no sooner than its Retry-After (capped).
        const retryable = last.status === 0 || last.status === 429 || last.status >= 500;
        const pause = Math.max(Math.min(200 * 2 ** (attempt - 1), 2000), Math.min(retryAfterMs, 5000));
        if (!retryable || closed || Date.now() + pause > giveUpAt) {
          backend.completions.push({ jobId: completion.jobId, ...last, attempts: attempt });
          return last;
        }
        await sleep(pause);
      }
    },
  };

  const later = (ms: number, run: () => void, jobId?: string) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (jobId) jobTimers.get(jobId)?.delete(timer);
      run();
    }, ms);
    timers.add(timer);
    if (jobId) jobTimers.set(jobId, (jobTimers.get(jobId) ?? new Set()).add(timer));
  };

  /** One heartbeat, sent once (a lost one is simply followed by the next). */
  const heartbeat = async (callbackUrl: string, jobId: string, sent: HeartbeatRequest) => {
    let reply: { status: number; body: unknown } = { status: 0, body: undefined };
    try {
      const response = await fetch(callbackUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(sent),
        signal: AbortSignal.timeout(12_000),
      });
      reply = { status: response.status, body: await response.json().catch(() => undefined) };
    } catch {
      // no answer: counted with status 0
    }
    backend.heartbeats.push({ jobId, sent, ...reply });
  };

  /** A signed cancel event: count it, stop the job's work, answer 202. */
  const takeCancel = (request: http.IncomingMessage, response: http.ServerResponse, body: string, via: 'cancelUrl' | 'dispatchUrl') => {
    const event = JSON.parse(body) as CancelEvent;
    const headers = Object.fromEntries(['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((name) => [name, String(request.headers[name] ?? '')]));
    backend.cancels.push({ ...event, via, headers, rawBody: body });
    for (const timer of jobTimers.get(event.jobId) ?? []) {
      clearTimeout(timer);
      timers.delete(timer);
    }
    jobTimers.delete(event.jobId);
    response.writeHead(202, { 'content-type': 'application/json' }).end('{"accepted":true}');
  };

  const countFault = (where: 'dispatch' | 'status', kind: BackendFaultKind) => {
    const key = `${where}:${kind}`;
    backend.faultsInjected[key] = (backend.faultsInjected[key] ?? 0) + 1;
  };

  /** The fault (if any) for this request: per-job input first, then the seeded plan. */
  const pickFault = (where: 'dispatch' | 'status', input: Record<string, unknown> | undefined, attempt: number) => {
    const fromInput = parseFault(input?.[`${where}Fault`]);
    if (fromInput) {
      const timesRaw = input?.[`${where}FaultTimes`];
      const times = timesRaw === undefined ? (where === 'dispatch' ? 1 : Number.POSITIVE_INFINITY) : Number(timesRaw);
      if (attempt <= times) return fromInput;
    }
    const plan = options.faults?.[where];
    if (plan && plan.kinds.length > 0 && random() < plan.rate) {
      const kind = plan.kinds[Math.floor(random() * plan.kinds.length)]!;
      return { kind, ms: plan.latencyMs ?? 300 };
    }
    return undefined;
  };

  /** Applies a fault that strikes before the request is handled; true when the request is done with. */
  const strikeBefore = async (
    where: 'dispatch' | 'status',
    fault: { kind: BackendFaultKind; ms: number } | undefined,
    request: http.IncomingMessage,
    response: http.ServerResponse,
  ): Promise<boolean> => {
    if (!fault || fault.kind === 'drop-after') return false;
    countFault(where, fault.kind);
    switch (fault.kind) {
      case 'latency':
        await sleep(fault.ms);
        return false;
      case 'error':
        response.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"injected failure"}');
        return true;
      case '503':
        response.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' }).end('{"error":"injected unavailability"}');
        return true;
      case 'hang':
        return true; // never answers; the service's timeout must cope
      case 'drop':
        request.socket.destroy();
        return true;
    }
  };

  const answer = (response: http.ServerResponse, reply: KnownJob) => {
    response.writeHead(reply.status, reply.headers).end(reply.body);
  };

  const server = http.createServer(async (request, response) => {
    try {
      const body = await readSignedBody(request, options.secret);
      if (body === undefined) {
        backend.rejectedSignatures++;
        response.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"bad signature"}');
        return;
      }
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      if (request.method === 'GET' && url.pathname.startsWith('/status/')) {
        const jobId = url.pathname.slice('/status/'.length);
        const state = polls.get(jobId);
        if (!state) return void response.writeHead(404).end();
        const attempts = attemptsByJob.get(jobId)!;
        attempts.status += 1;
        const input = backend.dispatches.find((d) => d.jobId === jobId)?.input;
        if (await strikeBefore('status', pickFault('status', input, attempts.status), request, response)) return;
        const ready = Date.now() >= state.readyAt;
        response.writeHead(200, { 'content-type': 'application/json', 'retry-after': '1' });
        response.end(JSON.stringify(ready ? state.outcome : { status: 'PENDING', progress: 50 }));
        return;
      }
      if (request.method === 'POST' && url.pathname.startsWith('/cancel/')) return takeCancel(request, response, body, 'cancelUrl');
      if ((JSON.parse(body) as { type?: unknown }).type === CANCEL_EVENT_TYPE) return takeCancel(request, response, body, 'dispatchUrl');
      const dispatch = JSON.parse(body) as DispatchRequest;
      backend.dispatches.push(dispatch);
      const attempts = attemptsByJob.get(dispatch.jobId) ?? { dispatch: 0, status: 0 };
      attemptsByJob.set(dispatch.jobId, attempts);
      attempts.dispatch += 1;
      const input = dispatch.input;
      const fault = pickFault('dispatch', input, attempts.dispatch);
      if (await strikeBefore('dispatch', fault, request, response)) return;

      const repeated = known.get(dispatch.jobId);
      if (repeated) return void answer(response, repeated);

      const behaviour = String(input.behaviour ?? 'push');
      const delayMs = Number(input.delayMs ?? 200);
      const result = padResult(options.resultFor?.(dispatch) ?? { answer: `done ${dispatch.jobId}`, input }, Number(input.resultBytes ?? 0));
      const outcome: CompletionRequest =
        behaviour === 'fail'
          ? { jobId: dispatch.jobId, status: 'FAILED', error: { code: 'CRM_DOWN', message: 'The CRM did not answer' } }
          : { jobId: dispatch.jobId, status: 'COMPLETED', result };
      if (outcome.status === 'COMPLETED') backend.results.set(dispatch.jobId, result);
      const json = { 'content-type': 'application/json' };
      const cancelUrl = input.cancelUrl === 'true' || input.cancelUrl === true ? { cancelUrl: `/cancel/${dispatch.jobId}` } : {};
      const accepted = JSON.stringify({ accepted: true, ...cancelUrl });
      let reply: KnownJob;
      switch (behaviour) {
        case 'hang':
          return; // never answers; the service's dispatch timeout must cope
        case 'reject':
          reply = { status: 400, headers: json, body: '{"error":{"code":"BAD_INPUT","message":"no such task"}}' };
          break;
        case 'error':
          return void response.writeHead(500).end();
        case 'inline':
          reply = { status: 200, headers: json, body: JSON.stringify(outcome) };
          break;
        case 'poll':
          polls.set(dispatch.jobId, { readyAt: Date.now() + delayMs, outcome });
          reply = { status: 202, headers: { ...json, 'retry-after': '1' }, body: JSON.stringify({ statusUrl: `/status/${dispatch.jobId}`, ...cancelUrl }) };
          break;
        case 'manual':
          reply = { status: 202, headers: json, body: accepted };
          break;
        default: {
          reply = { status: 202, headers: json, body: accepted };
          const times = input.duplicate === 'true' || input.duplicate === true ? 2 : 1;
          for (let i = 0; i < times; i++) {
            later(delayMs + i * 100, () => void backend.complete(dispatch.callbackUrl, outcome).catch(() => undefined), dispatch.jobId);
          }
          if (behaviour === 'progress') {
            const everyMs = Math.max(100, Number(input.progressEveryMs ?? 3000) || 3000);
            const messages = String(input.progressMessages ?? DEFAULT_PROGRESS_MESSAGES).split('|').filter((m) => m.trim() !== '');
            const count = Math.ceil(delayMs / everyMs) - 1;
            for (let i = 0, at = everyMs; at < delayMs; i++, at += everyMs) {
              // The messages are spread over the work: the first ones early, the last near the end.
              const message = messages[Math.min(messages.length - 1, Math.floor((i * messages.length) / Math.max(1, count)))];
              const sent: HeartbeatRequest = { status: 'PENDING', progress: Math.min(95, Math.round((at / delayMs) * 100)), ...(message ? { message } : {}) };
              later(at, () => void heartbeat(dispatch.callbackUrl, dispatch.jobId, sent), dispatch.jobId);
            }
          }
        }
      }
      known.set(dispatch.jobId, reply);
      if (fault?.kind === 'drop-after') {
        countFault('dispatch', 'drop-after');
        request.socket.destroy();
        return;
      }
      answer(response, reply);
    } catch (error) {
      if (!response.headersSent) {
        response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String((error as Error).message) }));
      }
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(backend, {
    url: `http://127.0.0.1:${port}/jobs`,
    close: async () => {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}
