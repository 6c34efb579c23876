/**
 * A pass-through HTTP proxy between the service and the emulator that adds a fixed network
 * latency to every Twilio API call and records when each call started and ended.
 *
 * Half of the latency is spent before the request reaches the emulator and half before the
 * answer goes back, like a real round trip: a conference ended by REST is ended when the request
 * arrives, not when its answer does. The records give the critical path of a request (how many
 * Twilio calls it made one after the other) and which Sync documents were written.
 *
 * Kept in bench/ so the emulator's own fault injection, once it lands, is not needed for the
 * numbers here; only 127.0.0.1.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CallRecord {
  method: string;
  /** Path without the query, as the emulator sees it (`/sync/v1/Services/default/Documents/job_JB..`). */
  path: string;
  /** Short operation name, e.g. `sync.create`, `conference.list` (see classify). */
  op: string;
  /** Sync document written (unique name or SID), for create and update. */
  document?: string;
  /** performance.now() when the service sent it and when the answer was back. */
  start: number;
  end: number;
  status: number;
}

export interface LatencyProxy {
  url: string;
  /** The emulator's URL; requests wait until it is set. */
  setTarget(url: string): void;
  setLatency(ms: number): void;
  records: CallRecord[];
  /** Calls under way right now. */
  inFlight(): number;
  /** Resolves once no call is under way (bounded by maxMs). */
  idle(maxMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** A readable name for a Twilio call (the emulator's stats keep the exact operation names). */
export function classify(method: string, path: string): string {
  if (/\/Documents$/.test(path)) return method === 'POST' ? 'sync.create' : 'sync.list';
  if (/\/Documents\/[^/]+$/.test(path))
    return method === 'POST' ? 'sync.update' : method === 'GET' ? 'sync.fetch' : 'sync.remove';
  if (/\/Conferences\.json$/.test(path)) return 'conference.list';
  if (/\/Conferences\/[^/]+\.json$/.test(path)) return method === 'POST' ? 'conference.update' : 'conference.fetch';
  if (/\/Participants/.test(path)) return `participant.${method === 'GET' ? 'read' : 'write'}`;
  if (/\/Calls\//.test(path)) return method === 'POST' ? 'call.update' : 'call.fetch';
  return `${method} ${path}`;
}

function readBody(request: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function writtenDocument(op: string, path: string, body: Buffer): string | undefined {
  if (op === 'sync.update') return decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
  if (op === 'sync.create') return new URLSearchParams(body.toString('utf8')).get('UniqueName') ?? '(no unique name)';
  return undefined;
}

interface Upstream {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** The target's whole answer to the request, or a 502 naming why there was none. */
function forward(
  url: URL,
  method: string,
  headers: http.OutgoingHttpHeaders,
  agent: http.Agent,
  body: Buffer,
): Promise<Upstream> {
  return new Promise<Upstream>((resolve, reject) => {
    const request = http.request(url, { method, headers, agent }, (answer) => {
      readBody(answer).then(
        (data) => resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: data }),
        reject,
      );
    });
    request.on('error', reject);
    request.end(body);
  }).catch((error: Error) => ({
    status: 502,
    headers: { 'content-type': 'application/json' } as http.IncomingHttpHeaders,
    body: Buffer.from(JSON.stringify({ message: error.message })),
  }));
}

/** Passes the target's answer on, with its own length and without hop-by-hop headers. */
function relay(upstream: Upstream, response: http.ServerResponse): void {
  const outHeaders: http.IncomingHttpHeaders = { ...upstream.headers };
  delete outHeaders['transfer-encoding'];
  delete outHeaders.connection;
  outHeaders['content-length'] = String(upstream.body.length);
  response.writeHead(upstream.status, outHeaders);
  response.end(upstream.body);
}

/** What the proxy's calls share: the latency and the target (both set later too), and the records. */
interface ProxyState {
  latencyMs: number;
  target: string | undefined;
  /** Resolves once the target is known. */
  targetReady: Promise<void>;
  agent: http.Agent;
  records: CallRecord[];
}

/** One Twilio call: half the latency, the target's answer, the other half; then its record. */
async function proxyCall(state: ProxyState, request: http.IncomingMessage, response: http.ServerResponse) {
  const start = performance.now();
  const body = await readBody(request);
  await state.targetReady;
  const inbound = state.latencyMs / 2;
  if (inbound > 0) await sleep(inbound);
  const url = new URL(request.url ?? '/', state.target);
  const path = url.pathname;
  const method = request.method ?? 'GET';
  const op = classify(method, path);
  const upstream = await forward(url, method, { ...request.headers, host: url.host }, state.agent, body);
  const outbound = state.latencyMs - inbound;
  if (outbound > 0) await sleep(outbound);
  relay(upstream, response);
  state.records.push({
    method,
    path,
    op,
    document: writtenDocument(op, path, body),
    start,
    end: performance.now(),
    status: upstream.status,
  });
}

export async function startLatencyProxy(options: { latencyMs: number; target?: string }): Promise<LatencyProxy> {
  let targetSet: () => void = () => undefined;
  const state: ProxyState = {
    latencyMs: options.latencyMs,
    target: options.target,
    targetReady: new Promise<void>((resolve) => (targetSet = resolve)),
    agent: new http.Agent({ keepAlive: true, maxSockets: 256 }),
    records: [],
  };
  if (state.target) targetSet();
  let inFlight = 0;

  const server = http.createServer((request, response) => {
    inFlight++;
    void proxyCall(state, request, response)
      .catch(() => {
        if (!response.headersSent) response.writeHead(502).end();
      })
      .finally(() => inFlight--);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setTarget(url) {
      state.target = url;
      targetSet();
    },
    setLatency(ms) {
      state.latencyMs = ms;
    },
    records: state.records,
    inFlight: () => inFlight,
    async idle(maxMs = 5000) {
      const until = performance.now() + maxMs;
      while (inFlight > 0 && performance.now() < until) await sleep(5);
    },
    close: async () => {
      server.closeAllConnections();
      state.agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Longest chain of calls where each starts after the previous one ended: how many Twilio round
 * trips a request waited for one after the other. Calls made at the same time count once.
 * `chain` lists the steps, each with the calls of that step (a call's step is the length of the
 * longest chain that ends with it), e.g. ['sync.fetch + conference.list', 'sync.update + conference.update'].
 */
export function criticalPath(calls: readonly CallRecord[]): { depth: number; chain: string[] } {
  const sorted = [...calls].sort((a, b) => a.start - b.start);
  const depth: number[] = [];
  // A call started within a millisecond of another's end still waited for it.
  for (let i = 0; i < sorted.length; i++) {
    depth[i] = 1;
    for (let j = 0; j < i; j++) {
      if (sorted[j]!.end <= sorted[i]!.start + 1) depth[i] = Math.max(depth[i]!, depth[j]! + 1);
    }
  }
  const longest = depth.reduce((a, b) => Math.max(a, b), 0);
  const chain: string[] = [];
  for (let level = 1; level <= longest; level++) {
    const counts = new Map<string, number>();
    sorted.forEach((call, i) => {
      if (depth[i] === level) counts.set(call.op, (counts.get(call.op) ?? 0) + 1);
    });
    chain.push([...counts].map(([op, n]) => (n > 1 ? `${op} x${n}` : op)).join(' + '));
  }
  return { depth: longest, chain };
}
