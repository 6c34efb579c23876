import { signBody } from '../../src/lib/backend/signing';
import { startExampleBackend, type ExampleBackend } from '../../emulator/example-backend';
import { attribute, FLOW_SID, newCallSid, pathOf, sleep, startService, waitForFinal, type ServiceUnderTest } from '../support/service-client';

const SECRET = 'whsec_' + Buffer.from('service-test-secret-0123').toString('base64');
const OLD_SECRET = 'whsec_' + Buffer.from('previous-test-secret-987').toString('base64');

let service: ServiceUnderTest;
let backend: ExampleBackend;
beforeAll(async () => {
  backend = await startExampleBackend({ secret: SECRET });
  service = await startService({ BACKEND_URL: backend.url, WEBHOOK_SECRET: SECRET, WEBHOOK_SECRET_PREVIOUS: OLD_SECRET });
});
afterAll(async () => {
  await service?.stop();
  await backend?.close();
});
afterEach(() => expect(service.stack.emulator.violations()).toEqual([]));

const completeUrl = () => `${service.stack.baseUrl}/jobs/complete`;

/** Sends a completion with chosen signing, returning the reply. */
async function sendCompletion(body: object, sign: (raw: string) => Record<string, string> = (raw) => ({ ...signBody(SECRET, raw) })) {
  const raw = JSON.stringify(body);
  const response = await fetch(completeUrl(), { method: 'POST', headers: { 'content-type': 'application/json', ...sign(raw) }, body: raw });
  return { status: response.status, body: (await response.json()) as any };
}

describe('push mode', () => {
  it('dispatches a signed job and completes it from the signed callback, result byte-identical', async () => {
    const start = await service.post('/jobs/start', { task: 'crm', behaviour: 'push', delayMs: 300 });
    expect(start.body.status).toBe('PENDING');
    const dispatch = backend.dispatches.find((d) => d.jobId === start.body.jobId)!;
    expect(dispatch).toMatchObject({ input: { task: 'crm', behaviour: 'push', delayMs: '300' }, callbackUrl: expect.stringMatching(/\/jobs\/complete$/) });
    expect(Date.parse(dispatch.deadline)).toBeGreaterThan(Date.now());
    expect(await waitForFinal(service, start.body.jobId)).toMatchObject({ status: 'COMPLETED' });
    const result = await service.post('/jobs/result', { jobId: start.body.jobId });
    expect(JSON.stringify(result.body.result)).toBe(JSON.stringify(backend.results.get(start.body.jobId)));
  });

  it('ends the hold the moment the completion arrives', async () => {
    const start = await service.post('/jobs/start', { task: 'crm', behaviour: 'push', delayMs: 2500 });
    const jobId = start.body.jobId;
    const hold = await service.post(`/hold?jobId=${jobId}&flowSid=${FLOW_SID}`);
    const callSid = newCallSid();
    await service.join(`hold_${jobId}`, callSid, attribute(hold.text, 'statusCallback'));
    await service.post(pathOf(attribute(hold.text, 'waitUrl')!));
    const began = Date.now();
    const released = await service.released(callSid, 10_000);
    expect(released.released).toBe(true);
    expect(Date.now() - began).toBeGreaterThan(1000); // released by the completion, not the first wait turn
    while (!backend.completions.some((c) => c.jobId === jobId)) await sleep(20);
    expect(backend.completions.find((c) => c.jobId === jobId)).toMatchObject({ status: 200, body: { released: 1, duplicate: false } });
  });

  it('copes with the completion arriving before the caller joins the room', async () => {
    const start = await service.post('/jobs/start', { task: 'crm', behaviour: 'hang' });
    const jobId = start.body.jobId;
    const hold = await service.post(`/hold?jobId=${jobId}&flowSid=${FLOW_SID}`); // PENDING: Dial TwiML
    expect(hold.text).toContain('<Dial');
    const completion = await sendCompletion({ jobId, status: 'COMPLETED', result: { ok: 1 } });
    expect(completion).toMatchObject({ status: 200, body: { released: 0 } });
    // The caller's <Dial> runs now: the first wait turn sees the finished job and releases them.
    const callSid = newCallSid();
    await service.join(`hold_${jobId}`, callSid, attribute(hold.text, 'statusCallback'));
    await service.post(pathOf(attribute(hold.text, 'waitUrl')!));
    expect((await service.released(callSid, 5000)).released).toBe(true);
    const after = await service.post(pathOf(attribute(hold.text, 'action')!));
    expect(after.text).toContain('FlowEvent=return&amp;status=COMPLETED');
  });

  it('acknowledges a duplicate completion, refuses a conflicting one, and keeps the first', async () => {
    const start = await service.post('/jobs/start', { task: 'crm', behaviour: 'hang' });
    const jobId = start.body.jobId;
    expect(await sendCompletion({ jobId, status: 'COMPLETED', result: { a: 1, b: 2 } })).toMatchObject({ status: 200, body: { duplicate: false } });
    expect(await sendCompletion({ jobId, status: 'COMPLETED', result: { b: 2, a: 1 } })).toMatchObject({ status: 200, body: { duplicate: true } });
    expect(await sendCompletion({ jobId, status: 'FAILED', error: 'late failure' })).toMatchObject({ status: 409, body: { error: { code: 'JOB_ALREADY_FINAL' } } });
    expect((await service.post('/jobs/result', { jobId })).body).toEqual({ jobId, status: 'COMPLETED', result: { a: 1, b: 2 } });
  });

  it('refuses a completion after the deadline and keeps TIMED_OUT', async () => {
    const start = await service.post('/jobs/start', { task: 'crm', behaviour: 'hang', maxHoldSeconds: 10 });
    await sleep(10_100);
    const late = await sendCompletion({ jobId: start.body.jobId, status: 'COMPLETED', result: { late: true } });
    expect(late).toMatchObject({ status: 409, body: { error: { code: 'JOB_ALREADY_FINAL', message: expect.stringContaining('TIMED_OUT') } } });
    expect((await service.post('/jobs/status', { jobId: start.body.jobId })).body.status).toBe('TIMED_OUT');
  }, 20_000);

  it('answers quickly and keeps the job pending when the backend hangs', async () => {
    const began = Date.now();
    const start = await service.post('/jobs/start', { task: 'crm', behaviour: 'hang' });
    expect(start.body.status).toBe('PENDING');
    expect(Date.now() - began).toBeLessThan(5000);
  });
});

describe('other backend answers', () => {
  it('poll mode: 202 + statusUrl + Retry-After, polled until COMPLETED', async () => {
    const start = await service.post('/jobs/start', { task: 'report', behaviour: 'poll', delayMs: 1500 });
    expect(start.body).toMatchObject({ status: 'PENDING', retryAfter: 1 });
    const final = await waitForFinal(service, start.body.jobId);
    expect(final.status).toBe('COMPLETED');
    const result = await service.post('/jobs/result', { jobId: start.body.jobId });
    expect(result.body.result).toEqual(backend.results.get(start.body.jobId));
  });

  it('poll mode with wait: the fast finish is returned inline', async () => {
    const start = await service.post('/jobs/start', { task: 'report', behaviour: 'poll', delayMs: 500, wait: 4 });
    expect(start.body).toMatchObject({ status: 'COMPLETED', result: backend.results.get(start.body.jobId) });
  });

  it('inline: a backend that answers 200 with the result finishes the job at once', async () => {
    const start = await service.post('/jobs/start', { task: 'quick', behaviour: 'inline' });
    expect(start.body).toMatchObject({ status: 'COMPLETED', retryAfter: 0, result: { answer: `done ${start.body.jobId}` } });
  });

  it('push with wait: a completion within the wait is returned inline', async () => {
    const start = await service.post('/jobs/start', { task: 'quick', behaviour: 'push', delayMs: 200, wait: 4 });
    expect(start.body).toMatchObject({ status: 'COMPLETED', result: { answer: `done ${start.body.jobId}` } });
  });

  it.each([
    ['reject', 'BAD_INPUT'],
    ['fail', 'CRM_DOWN'],
  ])('a backend that answers %s fails the job with its error', async (behaviour, code) => {
    const start = await service.post('/jobs/start', { task: 'x', behaviour, delayMs: 100 });
    const final = await waitForFinal(service, start.body.jobId);
    expect(final).toMatchObject({ status: 'FAILED', error: { code } });
  });
});

describe('results up to Studio\'s 64 KB', () => {
  it('stores a 50 KB result across documents and returns it exactly', async () => {
    const start = await service.post('/jobs/start', { task: 'big', behaviour: 'push', delayMs: 100, resultBytes: 50_000 });
    await waitForFinal(service, start.body.jobId);
    const result = await fetch(`${service.stack.baseUrl}/jobs/result?jobId=${start.body.jobId}`);
    const text = await result.text();
    expect(Buffer.byteLength(text)).toBeLessThan(64 * 1024);
    expect(JSON.stringify(JSON.parse(text).result)).toBe(JSON.stringify(backend.results.get(start.body.jobId)));
  });

  it('refuses a result over the limit with 413 and leaves the job pending', async () => {
    const start = await service.post('/jobs/start', { task: 'huge', behaviour: 'hang' });
    const reply = await sendCompletion({ jobId: start.body.jobId, status: 'COMPLETED', result: { blob: 'x'.repeat(70_000) } });
    expect(reply).toMatchObject({ status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE' } } });
    expect((await service.post('/jobs/status', { jobId: start.body.jobId })).body.status).toBe('PENDING');
  });
});

describe('signed completions', () => {
  let jobId: string;
  beforeAll(async () => {
    jobId = (await service.post('/jobs/start', { task: 'sig', behaviour: 'hang' })).body.jobId;
  });
  const body = () => ({ jobId, status: 'COMPLETED', result: { forged: true } });

  it.each([
    ['unsigned', () => ({})],
    ['signed with an unknown secret', (raw: string) => ({ ...signBody('whsec_' + Buffer.from('attacker-secret-00000000').toString('base64'), raw) })],
    ['stale (6 minutes old)', (raw: string) => ({ ...signBody(SECRET, raw, Date.now() - 6 * 60_000) })],
    ['signed over other content', (raw: string) => ({ ...signBody(SECRET, raw.replace('true', 'false')) })],
  ])('rejects a completion %s with 401 and changes nothing', async (_name, sign) => {
    const reply = await sendCompletion(body(), sign);
    expect(reply).toMatchObject({ status: 401, body: { error: { code: 'INVALID_SIGNATURE', message: expect.any(String) } } });
    expect((await service.post('/jobs/status', { jobId })).body.status).toBe('PENDING');
  });

  it('accepts the previous secret during a rotation', async () => {
    const reply = await sendCompletion({ jobId, status: 'COMPLETED', result: { rotated: true } }, (raw) => ({ ...signBody(OLD_SECRET, raw) }));
    expect(reply.status).toBe(200);
  });

  it('gives a 400 naming the problem for a signed but malformed completion', async () => {
    const reply = await sendCompletion({ jobId, status: 'DONE' });
    expect(reply).toEqual({ status: 400, body: { error: { code: 'INVALID_PARAMETER', message: 'status must be COMPLETED or FAILED' } } });
  });
});
