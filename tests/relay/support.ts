/** Helpers for the relay tests: a signed dispatch, a scripted API, a recording callback. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { parseConfig } from '../../relay/src/config';
import { buildRelay, type Relay, type RelayOptions } from '../../relay/src/server';
import type { JobReport } from '../../relay/src/job';

export const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface TestServer {
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

export type Script = (
  request: Recorded,
  index: number,
) => { status?: number; body?: unknown; delayMs?: number; headers?: Record<string, string> };

/** An HTTP server on 127.0.0.1 that answers each request as the script says and records it. */
export async function startServer(script: Script): Promise<TestServer> {
  const requests: Recorded[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      requests.push(recorded);
      const answer = script(recorded, requests.length - 1);
      const send = () => {
        if (res.destroyed) return;
        const body =
          answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
        res.writeHead(answer.status ?? 200, {
          'content-type': typeof answer.body === 'string' ? 'text/plain' : 'application/json',
          ...answer.headers,
        });
        res.end(body);
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs).unref();
      else send();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface TestRelay {
  url: string;
  relay: Relay;
  logs: string[];
  /** Resolves with the report of the job when it has ended. */
  ended(jobId: string): Promise<JobReport>;
  close(): Promise<void>;
}

export async function startTestRelay(
  config: unknown,
  options: { env?: Record<string, string> } & Partial<RelayOptions> = {},
): Promise<TestRelay> {
  const logs: string[] = [];
  const reports = new Map<string, JobReport>();
  const waiters = new Map<string, (report: JobReport) => void>();
  const relay = buildRelay({
    config: parseConfig(config, 'test.config.json', options.env ?? {}),
    secret: SECRET,
    logger: { level: 'debug', stream: { write: (line: string) => void logs.push(line) } },
    completionReserveMs: 200,
    ...options,
    onJobEnd: (jobId, report) => {
      reports.set(jobId, report);
      waiters.get(jobId)?.(report);
    },
  });
  await relay.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = relay.app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    relay,
    logs,
    ended: (jobId) => {
      const done = reports.get(jobId);
      if (done) return Promise.resolve(done);
      return new Promise((resolve) => waiters.set(jobId, resolve));
    },
    close: () => relay.close(),
  };
}

let counter = 0;
export function newJobId(): string {
  counter += 1;
  return `JB${Date.now().toString(16)}${counter.toString().padStart(4, '0')}`;
}

/** The headers of a JSON body signed like the service signs it (Standard Webhooks, this second), or with another secret. */
export function signedHeaders(id: string, payload: string, secret = SECRET): Record<string, string> {
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(now.getTime() / 1000),
    'webhook-signature': new Webhook(secret).sign(id, now, payload),
  };
}

/** POSTs a dispatch to the relay, signed like the service signs it (or with another secret). */
export async function dispatch(
  relayUrl: string,
  body: { jobId: string; input: Record<string, unknown>; callbackUrl: string; deadline: string },
  secret = SECRET,
): Promise<{ status: number; body: unknown }> {
  const payload = JSON.stringify(body);
  const response = await fetch(`${relayUrl}/dispatch`, {
    method: 'POST',
    headers: signedHeaders(`msg_${body.jobId}`, payload, secret),
    body: payload,
  });
  return { status: response.status, body: await response.json().catch(() => undefined) };
}

export function inSeconds(seconds: number): string {
  return new Date(Date.now() + seconds * 1000).toISOString();
}
