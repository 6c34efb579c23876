/**
 * The relay over HTTP on 127.0.0.1: a signed dispatch in, the API called as its task says, the
 * completion out to the callback URL.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  dispatch,
  inSeconds,
  newJobId,
  signedHeaders,
  startServer,
  startTestRelay,
  type Script,
  type TestRelay,
  type TestServer,
} from './support';

const TOKEN = 'tok_' + randomBytes(12).toString('hex');
const CALLBACK_TOKEN = randomBytes(16).toString('hex');

let api: TestServer;
let apiScript: Script;
let callback: TestServer;
let callbackScript: Script;
let relay: TestRelay;

function lookupConfig(apiUrl: string, task: Record<string, unknown> = {}) {
  return {
    tasks: {
      lookup: {
        request: {
          method: 'GET',
          url: `${apiUrl}/customers/{{ input.customerId }}`,
          headers: { Authorization: { env: 'CRM_TOKEN', prefix: 'Bearer ' } },
        },
        timeoutMs: 2000,
        retry: { attempts: 3, delayMs: 50, maxDelayMs: 200 },
        result: '{"name": customer.name, "balance": account.balance}',
        ...task,
      },
      order: {
        request: {
          url: `${apiUrl}/orders`,
          headers: { 'X-Api-Key': 'ORDERS_KEY' },
          body: '{"customer": {{ input.customerId }}, "items": {{ input.items }}, "reference": {{ jobId }}, "note": "{{ input.note | raw }}"}',
        },
        result: '{"orderId": id, "total": $sum(lines.price)}',
      },
      strict: {
        request: { url: `${apiUrl}/strict` },
        retry: { attempts: 1 },
        result: '{"count": $number(value)}',
      },
      pick: {
        request: { url: `${apiUrl}/pick` },
        result: 'customer.name',
      },
    },
  };
}

function callbackUrl(jobId: string): string {
  return `${callback.url}/jobs/complete?jobId=${jobId}&token=${CALLBACK_TOKEN}`;
}

function completions(jobId: string): Array<Record<string, unknown>> {
  return callback.requests
    .filter((r) => r.url.includes(`jobId=${jobId}`))
    .map((r) => JSON.parse(r.body) as Record<string, unknown>);
}

async function start(input: Record<string, unknown>, deadlineSeconds = 20) {
  const jobId = newJobId();
  const answer = await dispatch(relay.url, {
    jobId,
    input,
    callbackUrl: callbackUrl(jobId),
    deadline: inSeconds(deadlineSeconds),
  });
  return { jobId, answer };
}

beforeAll(async () => {
  api = await startServer((request, index) => apiScript(request, index));
  callback = await startServer((request, index) => callbackScript(request, index));
  relay = await startTestRelay(lookupConfig(api.url), { env: { CRM_TOKEN: TOKEN, ORDERS_KEY: 'orders-key-value' } });
});

beforeEach(() => {
  api.requests.length = 0;
  callback.requests.length = 0;
  apiScript = () => ({ body: { customer: { name: 'Ada Lovelace' }, account: { balance: 42.5 } } });
  callbackScript = () => ({ status: 200, body: { ok: true } });
});

afterAll(async () => {
  await relay?.close();
  await api?.close();
  await callback?.close();
});

describe('the dispatch', () => {
  test('a dispatch signed with another secret is refused with 401 and nothing is called', async () => {
    const jobId = newJobId();
    const other = `whsec_${randomBytes(32).toString('base64')}`;
    const answer = await dispatch(
      relay.url,
      { jobId, input: { task: 'lookup', customerId: 'C1' }, callbackUrl: callbackUrl(jobId), deadline: inSeconds(10) },
      other,
    );
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({ error: { code: 'INVALID_SIGNATURE', message: expect.any(String) } });
    await sleep(300);
    expect(api.requests).toHaveLength(0);
    expect(callback.requests).toHaveLength(0);
    expect(relay.relay.running()).toBe(0);
  });

  test('an unsigned or altered dispatch is refused with 401', async () => {
    const jobId = newJobId();
    const body = JSON.stringify({
      jobId,
      input: { task: 'lookup', customerId: 'C1' },
      callbackUrl: callbackUrl(jobId),
      deadline: inSeconds(10),
    });
    const unsigned = await fetch(`${relay.url}/dispatch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(unsigned.status).toBe(401);

    // Signed, then one byte changed.
    const altered = await fetch(`${relay.url}/dispatch`, {
      method: 'POST',
      headers: signedHeaders('msg_1', body),
      body: body.replace('C1', 'C2'),
    });
    expect(altered.status).toBe(401);
    await sleep(200);
    expect(api.requests).toHaveLength(0);
  });

  test('an unknown task is refused with 422 at once (the service fails the job as BACKEND_REJECTED)', async () => {
    const { answer } = await start({ task: 'nope' });
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual({ error: { code: 'UNKNOWN_TASK', message: expect.stringContaining('"lookup"') } });
    expect(api.requests).toHaveLength(0);
  });

  test('a good dispatch is answered 202 before the API answers', async () => {
    apiScript = () => ({ delayMs: 800, body: { customer: { name: 'Slow' }, account: { balance: 1 } } });
    const startedAt = Date.now();
    const { jobId, answer } = await start({ task: 'lookup', customerId: 'C7' });
    expect(answer).toEqual({ status: 202, body: { accepted: true } });
    expect(Date.now() - startedAt).toBeLessThan(500);
    const report = await relay.ended(jobId);
    expect(report.outcome).toEqual({ status: 'COMPLETED', result: { name: 'Slow', balance: 1 } });
  });

  test("the service's signed cancel event stops a job running here; an unsigned one changes nothing", async () => {
    apiScript = () => ({ delayMs: 3000, body: { customer: { name: 'Late' }, account: { balance: 0 } } });
    const { jobId } = await start({ task: 'lookup', customerId: 'C8' });
    await sleep(200);
    const event = JSON.stringify({
      type: 'job.cancelled',
      jobId,
      status: 'CANCELLED',
      reason: 'CALLER_HUNG_UP',
      at: new Date().toISOString(),
    });
    const unsigned = await fetch(`${relay.url}/dispatch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: event,
    });
    expect(unsigned.status).toBe(401);
    expect(relay.relay.running()).toBe(1);
    const signed = await fetch(`${relay.url}/dispatch`, {
      method: 'POST',
      headers: signedHeaders(`msg_cancel_${jobId}`, event),
      body: event,
    });
    expect(signed.status).toBe(202);
    expect(await signed.json()).toEqual({ accepted: true, cancelled: true });
    const began = Date.now();
    await relay.ended(jobId);
    expect(Date.now() - began).toBeLessThan(2500); // did not wait for the 3 s API answer
  });

  test('GET /health answers with the tasks', async () => {
    const response = await fetch(`${relay.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', tasks: ['lookup', 'order', 'strict', 'pick'], running: 0 });
  });
});

describe('the API call', () => {
  test('the URL is rendered from the input with each value percent-encoded, and the header comes from the environment', async () => {
    const { jobId } = await start({ task: 'lookup', customerId: 'C 1/ü?x=1' });
    const report = await relay.ended(jobId);
    expect(report.outcome).toEqual({ status: 'COMPLETED', result: { name: 'Ada Lovelace', balance: 42.5 } });
    expect(api.requests).toHaveLength(1);
    expect(api.requests[0]!.method).toBe('GET');
    expect(api.requests[0]!.url).toBe(`/customers/${encodeURIComponent('C 1/ü?x=1')}`);
    expect(api.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(completions(jobId)).toEqual([
      { jobId, status: 'COMPLETED', result: { name: 'Ada Lovelace', balance: 42.5 } },
    ]);
  });

  test('the body is rendered as JSON from the input (each value a JSON value), POSTed with its header', async () => {
    apiScript = () => ({ status: 201, body: { id: 'O-9', lines: [{ price: 2 }, { price: 3.5 }] } });
    const { jobId } = await start({ task: 'order', customerId: 'C"1', items: [{ sku: 'a', n: 2 }], note: 'hi' });
    const report = await relay.ended(jobId);
    expect(report.outcome).toEqual({ status: 'COMPLETED', result: { orderId: 'O-9', total: 5.5 } });
    const request = api.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['x-api-key']).toBe('orders-key-value');
    expect(JSON.parse(request.body)).toEqual({
      customer: 'C"1',
      items: [{ sku: 'a', n: 2 }],
      reference: jobId,
      note: 'hi',
    });
  });

  test('a missing input field fails the job with TEMPLATE_FAILED, without calling the API', async () => {
    const { jobId } = await start({ task: 'lookup' });
    const report = await relay.ended(jobId);
    expect(report.outcome).toMatchObject({
      status: 'FAILED',
      error: { code: 'TEMPLATE_FAILED', message: expect.stringContaining('customerId') },
    });
    expect(api.requests).toHaveLength(0);
    expect(completions(jobId)).toHaveLength(1);
  });

  test('5xx answers are retried with backoff until one succeeds', async () => {
    apiScript = (_r, index) =>
      index < 2
        ? { status: index === 0 ? 503 : 500, body: { error: 'busy' } }
        : { body: { customer: { name: 'Third' }, account: { balance: 3 } } };
    const { jobId } = await start({ task: 'lookup', customerId: 'C3' });
    const report = await relay.ended(jobId);
    expect(report.outcome).toEqual({ status: 'COMPLETED', result: { name: 'Third', balance: 3 } });
    expect(api.requests).toHaveLength(3);
    expect(report.apiAttempts).toBe(3);
    // backoff: 50 ms then 100 ms (±20 %)
    expect(api.requests[1]!.at - api.requests[0]!.at).toBeGreaterThanOrEqual(35);
    expect(api.requests[2]!.at - api.requests[1]!.at).toBeGreaterThanOrEqual(75);
  });

  test('a 4xx answer is not retried: the job fails with API_ERROR', async () => {
    apiScript = () => ({ status: 404, body: { error: 'no such customer' } });
    const { jobId } = await start({ task: 'lookup', customerId: 'C404' });
    const report = await relay.ended(jobId);
    expect(report.outcome).toMatchObject({
      status: 'FAILED',
      error: { code: 'API_ERROR', message: expect.stringContaining('HTTP 404') },
    });
    expect(api.requests).toHaveLength(1);
  });

  test('an attempt that outlasts timeoutMs is abandoned and retried; after the last one the job fails with API_TIMEOUT', async () => {
    apiScript = () => ({ delayMs: 5000, body: {} });
    const local = await startTestRelay(
      lookupConfig(api.url, { timeoutMs: 300, retry: { attempts: 2, delayMs: 50, maxDelayMs: 50 } }),
      { env: { CRM_TOKEN: TOKEN, ORDERS_KEY: 'k' } },
    );
    try {
      const jobId = newJobId();
      const startedAt = Date.now();
      await dispatch(local.url, {
        jobId,
        input: { task: 'lookup', customerId: 'C5' },
        callbackUrl: callbackUrl(jobId),
        deadline: inSeconds(30),
      });
      const report = await local.ended(jobId);
      expect(report.outcome).toMatchObject({
        status: 'FAILED',
        error: { code: 'API_TIMEOUT', message: expect.stringContaining('no answer within 300 ms') },
      });
      expect(api.requests).toHaveLength(2);
      expect(Date.now() - startedAt).toBeLessThan(2000);
      expect(completions(jobId)).toHaveLength(1);
    } finally {
      await local.close();
    }
  });

  test("the timeout is cut to the job's deadline, so the completion still arrives before it", async () => {
    apiScript = () => ({ delayMs: 10_000, body: {} });
    const { jobId } = await start({ task: 'lookup', customerId: 'C6' }, 1.5);
    const deadline = Date.now() + 1500;
    const report = await relay.ended(jobId);
    expect(report.outcome).toMatchObject({
      status: 'FAILED',
      error: { code: expect.stringMatching(/^(API_TIMEOUT|DEADLINE)$/) },
    });
    const [completion] = callback.requests.filter((r) => r.url.includes(jobId));
    expect(completion!.at).toBeLessThan(deadline);
  });
});

describe('the mapping', () => {
  test('a mapping that fails at evaluation gives a FAILED completion with MAPPING_FAILED and the reason', async () => {
    apiScript = () => ({ body: { value: 'not a number' } });
    const { jobId } = await start({ task: 'strict' });
    const report = await relay.ended(jobId);
    expect(report.outcome).toMatchObject({
      status: 'FAILED',
      error: {
        code: 'MAPPING_FAILED',
        message: expect.stringMatching(/task "strict": the result mapping failed: .*JSONata D3030/),
      },
    });
    expect(completions(jobId)).toEqual([
      { jobId, status: 'FAILED', error: (report.outcome as { error: unknown }).error },
    ]);
  });

  test('a mapping that matches nothing gives MAPPING_FAILED', async () => {
    apiScript = () => ({ body: { somethingElse: true } });
    const { jobId } = await start({ task: 'pick' });
    const report = await relay.ended(jobId);
    expect(report.outcome).toMatchObject({
      status: 'FAILED',
      error: { code: 'MAPPING_FAILED', message: expect.stringContaining('produced nothing') },
    });
  });

  test('a mapping sees $input and $status besides the answer', async () => {
    const local = await startTestRelay(
      {
        tasks: {
          echo: {
            request: { url: `${api.url}/echo` },
            result: '{"who": $input.who, "status": $status, "name": customer.name}',
          },
        },
      },
      { env: {} },
    );
    try {
      const jobId = newJobId();
      await dispatch(local.url, {
        jobId,
        input: { task: 'echo', who: 'caller' },
        callbackUrl: callbackUrl(jobId),
        deadline: inSeconds(10),
      });
      expect((await local.ended(jobId)).outcome).toEqual({
        status: 'COMPLETED',
        result: { who: 'caller', status: 200, name: 'Ada Lovelace' },
      });
    } finally {
      await local.close();
    }
  });
});

describe('the completion', () => {
  test('is retried on 5xx and no answer until the callback acknowledges it', async () => {
    callbackScript = (_r, index) =>
      index === 0 ? { status: 503 } : index === 1 ? { status: 500 } : { status: 200, body: { ok: true } };
    const { jobId } = await start({ task: 'lookup', customerId: 'C8' });
    const report = await relay.ended(jobId);
    expect(report.callbackStatus).toBe(200);
    expect(report.callbackAttempts).toBe(3);
    const bodies = completions(jobId);
    expect(bodies).toHaveLength(3);
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
  });

  test('stops at the deadline when the callback never acknowledges', async () => {
    callbackScript = () => ({ status: 503 });
    const { jobId } = await start({ task: 'lookup', customerId: 'C9' }, 2);
    const deadline = Date.now() + 2000;
    const report = await relay.ended(jobId);
    expect(report.callbackStatus).toBe(503);
    expect(report.callbackAttempts).toBeGreaterThan(2);
    expect(Date.now()).toBeLessThan(deadline + 500);
  });

  test('a 503 DELIVERY_PENDING is sent again past the deadline until the service has handed the outcome to Studio', async () => {
    const deadline = Date.now() + 2000;
    // The job took the outcome; the Studio execution that texts it starts only after the deadline.
    callbackScript = (request) =>
      request.at < deadline + 300
        ? {
            status: 503,
            headers: { 'retry-after': '1' },
            body: { error: { code: 'DELIVERY_PENDING', message: 'not in Studio yet' }, retryAfter: 1 },
          }
        : { status: 200, body: { duplicate: true } };
    const { jobId } = await start({ task: 'lookup', customerId: 'C11' }, 2);
    const report = await relay.ended(jobId);
    expect(report.callbackStatus).toBe(200);
    const bodies = completions(jobId);
    expect(bodies.length).toBeGreaterThan(1);
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
  });

  test('a 409 from the service (job already ended) is not retried', async () => {
    callbackScript = () => ({ status: 409, body: { error: { code: 'CONFLICT' } } });
    const { jobId } = await start({ task: 'lookup', customerId: 'C10' });
    const report = await relay.ended(jobId);
    expect(report.callbackStatus).toBe(409);
    expect(report.callbackAttempts).toBe(1);
  });
});

test('the logs are JSON lines and hold neither the header secret nor the callback token', () => {
  expect(relay.logs.length).toBeGreaterThan(10);
  for (const line of relay.logs) expect(() => JSON.parse(line)).not.toThrow();
  const all = relay.logs.join('\n');
  expect(all).not.toContain(TOKEN);
  expect(all).not.toContain('orders-key-value');
  expect(all).not.toContain(CALLBACK_TOKEN);
  expect(all).toContain('"msg":"completion delivered"');
});
