/**
 * The backend the benchmarks dispatch to: it speaks the service's backend contract (signed
 * dispatch, signed completion, poll status URL) with timing the benchmark controls.
 *
 * Per job, from its input (Studio parameters arrive as strings):
 * - `benchMode=push` (default): answers 202 after `acceptDelayMs`; completes only when the
 *   benchmark calls complete(), or by itself after `completeAfterMs` when that is given;
 * - `benchMode=poll`: answers 202 + statusUrl + Retry-After: 1 after `acceptDelayMs`; its status
 *   turns COMPLETED at `readyAfterMs` after the dispatch (or when markReady() is called);
 * - `benchMode=hang`: never answers the dispatch.
 * `resultBytes` pads the result to about that many bytes of JSON.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readSignedBody } from '../../emulator/signed-requests';
import type { CompletionRequest, DispatchRequest } from '../../src/lib/contracts';

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

export function benchResult(jobId: string, bytes: number): Record<string, unknown> {
  const base = { answer: `done ${jobId}`, items: [1, 2, 3] };
  const size = Buffer.byteLength(JSON.stringify(base));
  return bytes > size + 20 ? { ...base, padding: 'x'.repeat(bytes - size - 14) } : base;
}

export async function startBenchBackend(options: BenchBackendOptions): Promise<BenchBackend> {
  const dispatches = new Map<string, DispatchRequest>();
  const readyAt = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  const pending = new Set<http.ServerResponse>();
  const later = (ms: number, run: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, ms);
    timers.add(timer);
  };
  const wait = (ms: number) => new Promise<void>((resolve) => later(ms, resolve));

  const completionFor = (dispatch: DispatchRequest): CompletionRequest => ({
    jobId: dispatch.jobId,
    status: 'COMPLETED',
    result: benchResult(dispatch.jobId, Number(dispatch.input.resultBytes ?? 0)),
  });

  const backend: Omit<BenchBackend, 'url' | 'close'> = {
    dispatches,
    readyAt,
    async complete(jobId) {
      const dispatch = dispatches.get(jobId);
      if (!dispatch) throw new Error(`no dispatch for ${jobId}`);
      const body = JSON.stringify(completionFor(dispatch));
      const sentAt = performance.now();
      // The backend contract: no answer, a 429 or a 5xx means "the same body again", with a bounded backoff.
      const giveUpAt = Date.now() + COMPLETION_RETRY_MS;
      for (let attempt = 1; ; attempt++) {
        let status = 0;
        let answer: unknown;
        let retryAfterMs = 0;
        try {
          const response = await fetch(dispatch.callbackUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          status = response.status;
          answer = await response.json().catch(() => undefined);
          retryAfterMs = (Number(response.headers.get('retry-after')) || 0) * 1000;
        } catch {
          status = 0;
        }
        const pause = Math.max(Math.min(200 * 2 ** (attempt - 1), 2000), Math.min(retryAfterMs, 5000));
        if (!(status === 0 || status === 429 || status >= 500) || Date.now() + pause > giveUpAt) {
          return { jobId, sentAt, answeredAt: performance.now(), status, body: answer };
        }
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    },
    markReady(jobId) {
      if (!readyAt.has(jobId)) readyAt.set(jobId, performance.now());
    },
  };

  const server = http.createServer((request, response) => {
    void (async () => {
      const body = await readSignedBody(request, options.secret);
      if (body === undefined) {
        response.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"bad signature"}');
        return;
      }
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      if (request.method === 'GET' && url.pathname.startsWith('/status/')) {
        const jobId = url.pathname.slice('/status/'.length);
        const dispatch = dispatches.get(jobId);
        if (!dispatch) return void response.writeHead(404).end();
        await wait(options.acceptDelayMs);
        const ready = readyAt.has(jobId);
        response.writeHead(200, { 'content-type': 'application/json', 'retry-after': '1' });
        response.end(JSON.stringify(ready ? completionFor(dispatch) : { status: 'PENDING' }));
        return;
      }
      const dispatch = JSON.parse(body) as DispatchRequest;
      dispatches.set(dispatch.jobId, dispatch);
      const input = dispatch.input;
      const mode = String(input.benchMode ?? 'push');
      if (mode === 'hang') {
        pending.add(response);
        response.on('close', () => pending.delete(response));
        return;
      }
      await wait(options.acceptDelayMs);
      if (mode === 'poll') {
        const readyAfter = Number(input.readyAfterMs);
        if (Number.isFinite(readyAfter) && readyAfter >= 0) later(readyAfter, () => backend.markReady(dispatch.jobId));
        response.writeHead(202, { 'content-type': 'application/json', 'retry-after': '1' });
        response.end(JSON.stringify({ statusUrl: `/status/${dispatch.jobId}` }));
        return;
      }
      response.writeHead(202, { 'content-type': 'application/json' }).end('{"accepted":true}');
      const completeAfter = Number(input.completeAfterMs);
      if (Number.isFinite(completeAfter) && completeAfter >= 0) {
        later(completeAfter, () => void backend.complete(dispatch.jobId).catch(() => undefined));
      }
    })().catch(() => {
      if (!response.headersSent) response.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(backend, {
    url: `http://127.0.0.1:${port}/jobs`,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      for (const response of pending) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}
