/** A tiny HTTP server standing in for the service, answering by path, for runner tests. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  form: URLSearchParams;
  body: string;
}

export interface FakeReply {
  status?: number;
  type?: string;
  body?: string;
  /** Answer after this long (the runner's timeouts). */
  delayMs?: number;
}

export type FakeRoute = (request: FakeRequest) => FakeReply | Promise<FakeReply>;

export interface FakeService {
  url: string;
  requests: FakeRequest[];
  close(): Promise<void>;
}

/** Routes by exact path; `*` answers any other path. */
export async function startFakeService(routes: Record<string, FakeRoute>): Promise<FakeService> {
  const requests: FakeRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', async () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const request: FakeRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        form: new URLSearchParams(body),
        body,
      };
      requests.push(request);
      const route = routes[url.pathname] ?? routes['*'];
      const reply: FakeReply = route ? await route(request) : { status: 404, body: 'no route' };
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(reply.status ?? 200, { 'content-type': reply.type ?? 'application/json' });
        res.end(reply.body ?? '');
      };
      if (!reply.delayMs) return send();
      const timer = setTimeout(() => {
        timers.delete(timer);
        send();
      }, reply.delayMs);
      timers.add(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export const json = (value: unknown, status = 200): FakeReply => ({
  status,
  type: 'application/json',
  body: JSON.stringify(value),
});
export const twiml = (xml: string): FakeReply => ({
  type: 'text/xml',
  body: `<?xml version="1.0" encoding="UTF-8"?><Response>${xml}</Response>`,
});
