/**
 * The concurrency gate in front of twilio-run (dev/function-gate.ts): Function requests past the
 * cap are refused; Assets and unknown paths pass uncounted; replies and bodies go through as they
 * are. Then the local stack with a gate: service URLs the functions hand out name the gate.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFunctionGate, type FunctionGate } from '../../dev/function-gate';
import { startLocalStack, type LocalStack } from '../../dev/local-stack';

describe('startFunctionGate', () => {
  let upstream: http.Server;
  let gate: FunctionGate;
  let release: () => void = () => undefined;

  beforeAll(async () => {
    // /slow answers only when the test says so; everything else echoes at once.
    upstream = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        const answer = () =>
          res.writeHead(201, { 'content-type': 'text/plain', 'x-echo': req.url ?? '' }).end(`${req.method} ${body}`);
        if (req.url?.startsWith('/slow')) release = answer;
        else answer();
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const { port } = upstream.address() as AddressInfo;
    gate = await startFunctionGate({ target: `http://127.0.0.1:${port}`, functionPaths: ['/slow', '/fast'], cap: 1 });
  });
  afterAll(async () => {
    await gate.close();
    upstream.closeAllConnections();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  it('listens on 127.0.0.1', () => {
    expect(gate.url).toBe(`http://127.0.0.1:${gate.port}`);
  });

  it('refuses a Function request past the cap with 429, Retry-After and a JSON error; assets pass', async () => {
    gate.resetStats();
    const slow = fetch(`${gate.url}/slow?jobId=JB7`, { method: 'POST', body: 'a=1' });
    while (gate.stats().inFlight < 1) await sleep(5);
    const refused = await fetch(`${gate.url}/fast`, { method: 'POST', body: 'b=2' });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.headers.get('content-type')).toBe('application/json');
    expect(await refused.json()).toEqual({ error: { code: 'CONCURRENCY_LIMIT', message: expect.any(String) } });
    // Not a function (an asset, an unknown path): never counted, never refused.
    const asset = await fetch(`${gate.url}/hold-music.wav`);
    expect(asset.status).toBe(201);
    release();
    const answered = await slow;
    expect({ status: answered.status, echo: answered.headers.get('x-echo'), body: await answered.text() }).toEqual({
      status: 201,
      echo: '/slow?jobId=JB7',
      body: 'POST a=1',
    });
    const fast = await fetch(`${gate.url}/fast`, { method: 'POST', body: 'c=3' });
    expect(await fast.text()).toBe('POST c=3');
    const stats = gate.stats();
    expect(stats).toMatchObject({
      cap: 1,
      inFlight: 0,
      peakInFlight: 1,
      total: 3,
      refused: 1,
      refusedByPath: { '/fast': 1 },
    });
    expect(stats.invocations[0]).toMatchObject({ path: '/slow', jobId: 'JB7', status: 201, refused: false });
    expect(stats.invocations.some((i) => i.path === '/hold-music.wav')).toBe(false);
  });
});

describe('startLocalStack with a concurrency cap', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({ forkProcess: false, live: false, concurrencyCap: 30 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('serves through the gate, and the URLs the functions hand out name the gate', async () => {
    expect(stack.baseUrl).toBe(stack.gate!.url);
    const started = await fetch(`${stack.baseUrl}/jobs/start`, {
      method: 'POST',
      body: new URLSearchParams({ task: 'x', wait: '0' }),
    });
    const body = (await started.json()) as { statusUrl: string };
    expect(new URL(body.statusUrl).origin).toBe(stack.baseUrl);
    expect((await fetch(`${stack.baseUrl}/hold-music.wav`)).status).toBe(200);
    expect(stack.gate!.stats()).toMatchObject({
      cap: 30,
      refused: 0,
      invocations: [expect.objectContaining({ path: '/jobs/start', status: 200 })],
    });
  });
});
