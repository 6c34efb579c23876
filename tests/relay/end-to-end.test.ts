/**
 * The relay in front of a slow plain API, with the real service (twilio-run + the emulator) as
 * its caller: /jobs/start dispatches to the relay, the relay calls the API and posts the mapped
 * result to the job's callback URL, /jobs/result hands it back.
 */
import { startService, waitForFinal, type ServiceUnderTest } from '../support/service-client';
import { SECRET, startServer, startTestRelay, type TestRelay, type TestServer } from './support';

const API_DELAY_MS = 3000;

let api: TestServer;
let relay: TestRelay;
let service: ServiceUnderTest;

beforeAll(async () => {
  api = await startServer((request) => {
    const id = decodeURIComponent(request.url.split('/').pop() ?? '');
    const balance = id === 'C-BAD' ? 'n/a' : 120.75;
    return {
      delayMs: API_DELAY_MS,
      body: { customer: { id, name: 'Grace Hopper' }, account: { balance, currency: 'USD' } },
    };
  });
  relay = await startTestRelay(
    {
      tasks: {
        lookup: {
          request: {
            url: `${api.url}/customers/{{ input.customerId }}`,
            headers: { Authorization: { env: 'CRM_TOKEN', prefix: 'Bearer ' } },
          },
          timeoutMs: 20000,
          result: '{"name": customer.name, "balance": $number(account.balance)}',
        },
      },
    },
    { env: { CRM_TOKEN: 'crm-token-e2e' } },
  );
  service = await startService({ BACKEND_URL: `${relay.url}/dispatch`, WEBHOOK_SECRET: SECRET });
}, 60_000);

afterAll(async () => {
  await service?.stop();
  await relay?.close();
  await api?.close();
});

test("a job started on the service completes with the slow API's answer, mapped by the relay", async () => {
  const startedAt = Date.now();
  const start = await service.post('/jobs/start', { task: 'lookup', customerId: 'C-42', maxHoldSeconds: '60' });
  expect(start.status).toBe(200);
  expect(start.body.status).toBe('PENDING');
  const jobId = start.body.jobId as string;

  const { status } = await waitForFinal(service, jobId, 30_000);
  expect(status).toBe('COMPLETED');
  expect(Date.now() - startedAt).toBeGreaterThanOrEqual(API_DELAY_MS);

  const result = await service.get(`/jobs/result?jobId=${jobId}`);
  expect(result.status).toBe(200);
  expect(result.body).toMatchObject({ jobId, status: 'COMPLETED', result: { name: 'Grace Hopper', balance: 120.75 } });

  expect(api.requests).toHaveLength(1);
  expect(api.requests[0]!.url).toBe('/customers/C-42');
  expect(api.requests[0]!.headers.authorization).toBe('Bearer crm-token-e2e');
  const report = await relay.ended(jobId);
  expect(report.callbackStatus).toBe(200);
  expect(report.callbackAttempts).toBe(1);
});

test("an API answer the mapping cannot use ends the job FAILED with the mapping's reason", async () => {
  const start = await service.post('/jobs/start', { task: 'lookup', customerId: 'C-BAD', maxHoldSeconds: '60' });
  expect(start.status).toBe(200);
  const jobId = start.body.jobId as string;
  const { status } = await waitForFinal(service, jobId, 30_000);
  expect(status).toBe('FAILED');
  const result = await service.get(`/jobs/result?jobId=${jobId}`);
  expect(JSON.stringify(result.body)).toContain('MAPPING_FAILED');
  expect(JSON.stringify(result.body)).toContain('the result mapping failed');
});
