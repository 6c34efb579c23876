import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { signBody, verifyBody } from '../src/lib/backend/signing';
import type { CompletionRequest, DispatchRequest } from '../src/lib/contracts';

/**
 * A backend that speaks the dispatch/completion contract, for local runs, tests and benchmarks.
 * How it treats a job is chosen by the job's input `behaviour`:
 * - `push` (default): accepts with 202, then POSTs a signed completion after `delayMs`;
 * - `poll`: answers 202 + statusUrl + Retry-After, its status turns COMPLETED after `delayMs`;
 * - `inline`: answers 200 with the result at once;
 * - `fail`: like push, but completes with FAILED;
 * - `reject`: answers 400; `error`: answers 500; `hang`: never answers.
 * `resultBytes` pads the result to about that size. `duplicate=true` sends the completion twice.
 */
export interface ExampleBackendOptions {
  secret: string;
  /** Result for a job; defaults to a small object naming the job. */
  resultFor?: (dispatch: DispatchRequest) => Record<string, unknown>;
}

export interface ExampleBackend {
  url: string;
  dispatches: DispatchRequest[];
  /** Completions sent, with the HTTP status /jobs/complete answered. */
  completions: Array<{ jobId: string; status: number; body: unknown }>;
  /** Results handed out, by job id, exactly as sent. */
  results: Map<string, Record<string, unknown>>;
  rejectedSignatures: number;
  /** Sends a signed completion now (for tests that drive timing themselves). */
  complete(callbackUrl: string, completion: CompletionRequest): Promise<{ status: number; body: unknown }>;
  close(): Promise<void>;
}

interface PollState {
  readyAt: number;
  outcome: CompletionRequest;
}

function readBody(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (data += chunk));
    request.on('end', () => resolve(data));
    request.on('error', reject);
  });
}

function padResult(base: Record<string, unknown>, bytes: number): Record<string, unknown> {
  const size = Buffer.byteLength(JSON.stringify(base));
  return bytes > size ? { ...base, padding: 'ü'.repeat(Math.floor((bytes - size - 14) / 2)) } : base;
}

export async function startExampleBackend(options: ExampleBackendOptions): Promise<ExampleBackend> {
  const polls = new Map<string, PollState>();
  const timers = new Set<NodeJS.Timeout>();
  const backend: Omit<ExampleBackend, 'url' | 'close'> = {
    dispatches: [],
    completions: [],
    results: new Map(),
    rejectedSignatures: 0,
    async complete(callbackUrl, completion) {
      const body = JSON.stringify(completion);
      const response = await fetch(callbackUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signBody(options.secret, body) },
        body,
      });
      const answer: unknown = await response.json().catch(() => undefined);
      backend.completions.push({ jobId: completion.jobId, status: response.status, body: answer });
      return { status: response.status, body: answer };
    },
  };

  const later = (ms: number, run: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, ms);
    timers.add(timer);
  };

  const server = http.createServer(async (request, response) => {
    const body = await readBody(request);
    const headers = {
      'webhook-id': String(request.headers['webhook-id'] ?? ''),
      'webhook-timestamp': String(request.headers['webhook-timestamp'] ?? ''),
      'webhook-signature': String(request.headers['webhook-signature'] ?? ''),
    };
    if (!verifyBody([options.secret], body, headers).ok) {
      backend.rejectedSignatures++;
      response.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"bad signature"}');
      return;
    }
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (request.method === 'GET' && url.pathname.startsWith('/status/')) {
      const state = polls.get(url.pathname.slice('/status/'.length));
      if (!state) return void response.writeHead(404).end();
      const ready = Date.now() >= state.readyAt;
      response.writeHead(200, { 'content-type': 'application/json', 'retry-after': '1' });
      response.end(JSON.stringify(ready ? state.outcome : { status: 'PENDING', progress: 50 }));
      return;
    }
    const dispatch = JSON.parse(body) as DispatchRequest;
    backend.dispatches.push(dispatch);
    const input = dispatch.input;
    const behaviour = String(input.behaviour ?? 'push');
    const delayMs = Number(input.delayMs ?? 200);
    const result = padResult(options.resultFor?.(dispatch) ?? { answer: `done ${dispatch.jobId}`, input }, Number(input.resultBytes ?? 0));
    const outcome: CompletionRequest =
      behaviour === 'fail'
        ? { jobId: dispatch.jobId, status: 'FAILED', error: { code: 'CRM_DOWN', message: 'The CRM did not answer' } }
        : { jobId: dispatch.jobId, status: 'COMPLETED', result };
    if (outcome.status === 'COMPLETED') backend.results.set(dispatch.jobId, result);
    switch (behaviour) {
      case 'hang':
        return; // never answers; the service's dispatch timeout must cope
      case 'reject':
        return void response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"code":"BAD_INPUT","message":"no such task"}}');
      case 'error':
        return void response.writeHead(500).end();
      case 'inline':
        return void response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(outcome));
      case 'poll':
        polls.set(dispatch.jobId, { readyAt: Date.now() + delayMs, outcome });
        response.writeHead(202, { 'content-type': 'application/json', 'retry-after': '1' });
        return void response.end(JSON.stringify({ statusUrl: `/status/${dispatch.jobId}` }));
      default: {
        response.writeHead(202, { 'content-type': 'application/json' }).end('{"accepted":true}');
        const times = input.duplicate === 'true' || input.duplicate === true ? 2 : 1;
        for (let i = 0; i < times; i++) {
          later(delayMs + i * 100, () => void backend.complete(dispatch.callbackUrl, outcome).catch(() => undefined));
        }
      }
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(backend, {
    url: `http://127.0.0.1:${port}/jobs`,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}
