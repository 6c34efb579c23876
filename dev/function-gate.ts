/**
 * A small HTTP proxy on 127.0.0.1 in front of twilio-run that plays the Functions concurrency
 * limit twilio-run does not have: it counts the Function requests in flight (from arrival to the
 * end of the reply) and refuses those past the cap (dev/function-concurrency.ts says how).
 * Assets are static on Twilio, so they pass uncounted, as do paths that are no function.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ConcurrencyCounter,
  jobIdOfQuery,
  REFUSAL_HEADERS,
  refusalBody,
  type ConcurrencyStats,
} from './function-concurrency';

export interface FunctionGateOptions {
  /** twilio-run's base URL, e.g. http://127.0.0.1:41234 */
  target: string;
  /** The URL paths that are functions (`/jobs/start`, ...). */
  functionPaths: Iterable<string>;
  /** In-flight executions allowed; 0 or undefined: no cap (counted only). */
  cap?: number;
  /** Port to listen on (127.0.0.1); 0 or undefined: any free port. */
  port?: number;
}

export interface FunctionGate {
  /** Where the service answers through the gate, e.g. http://127.0.0.1:3000 */
  url: string;
  port: number;
  /** The figures of every Function request that reached the gate. */
  stats(): ConcurrencyStats;
  resetStats(): void;
  close(): Promise<void>;
}

export async function startFunctionGate(options: FunctionGateOptions): Promise<FunctionGate> {
  const target = new URL(options.target);
  const functions = new Set(options.functionPaths);
  const counter = new ConcurrencyCounter(options.cap);

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://gate.local');
    const finish = functions.has(url.pathname)
      ? counter.start(url.pathname, jobIdOfQuery(url.search))
      : () => undefined;
    if (!finish) {
      // Refused before anything runs: read the body away, then answer.
      req.resume();
      req.on('end', () =>
        res.writeHead(429, { ...REFUSAL_HEADERS }).end(JSON.stringify(refusalBody(counter.cap ?? 0))),
      );
      return;
    }
    const upstream = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (reply) => {
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(res);
        reply.on('end', () => finish(reply.statusCode ?? 502));
        reply.on('error', () => finish(502));
      },
    );
    upstream.on('error', () => {
      finish(502);
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('the local functions server did not answer');
    });
    // A caller that goes away ends the execution's slot too (Twilio would stop waiting).
    res.on('close', () => {
      if (!res.writableFinished) {
        upstream.destroy();
        finish(499);
      }
    });
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stats: () => counter.stats(),
    resetStats: () => counter.resetStats(),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
