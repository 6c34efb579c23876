/**
 * For local runs (the flow runner's `relay-slow-api` scenario): a plain HTTP API that takes a while
 * to answer, and the relay in front of it, both on 127.0.0.1. Point BACKEND_URL at `backendUrl`
 * and WEBHOOK_SECRET at `secret`.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseConfig } from '../src/config';
import { buildRelay } from '../src/server';

export interface SlowApiOptions {
  /** How long the API takes to answer each request. */
  delayMs: number;
  /** What it answers, as `{"answer": …}`; the relay maps it to the result's `message`. */
  answer: string;
  /** The relay's log lines (JSON); silent by default. */
  log?: (line: string) => void;
}

export interface SlowApiBackend {
  backendUrl: string;
  secret: string;
  apiUrl: string;
  /** API requests so far. */
  apiRequests(): number;
  close(): Promise<void>;
}

export const SLOW_API_TASK = 'slow-api';

export async function startRelayFrontingSlowApi(options: SlowApiOptions): Promise<SlowApiBackend> {
  let requests = 0;
  const timers = new Set<NodeJS.Timeout>();
  const api = http.createServer((req, res) => {
    requests += 1;
    req.resume();
    const timer = setTimeout(() => {
      timers.delete(timer);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ answer: options.answer, path: req.url }));
    }, options.delayMs);
    timers.add(timer);
  });
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  const apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;

  const secret = `whsec_${crypto.randomBytes(24).toString('base64')}`;
  const config = parseConfig(
    {
      tasks: {
        [SLOW_API_TASK]: {
          request: { url: `${apiUrl}/answers/{{ jobId }}` },
          timeoutMs: options.delayMs + 15_000,
          result: '{"message": answer, "source": "relay"}',
        },
      },
    },
    'relay/local/slow-api.ts',
    {},
  );
  const relay = buildRelay({
    config,
    secret,
    logger: options.log ? { level: 'info', stream: { write: (line: string) => options.log!(line.trimEnd()) } } : false,
  });
  await relay.app.listen({ port: 0, host: '127.0.0.1' });
  const backendUrl = `http://127.0.0.1:${(relay.app.server.address() as AddressInfo).port}/dispatch`;

  return {
    backendUrl,
    secret,
    apiUrl,
    apiRequests: () => requests,
    close: async () => {
      await relay.close();
      for (const timer of timers) clearTimeout(timer);
      api.closeAllConnections();
      await new Promise<void>((resolve) => api.close(() => resolve()));
    },
  };
}
