import { completionToken } from '../../src/lib/backend/completion-token';
import {
  attribute,
  capabilityUrl,
  FLOW_SID,
  newCallSid,
  pathOf,
  sendCompletion,
  sleep,
  useService,
  waitForFinal,
} from '../support/service-client';

const SECRET = 'whsec_' + Buffer.from('service-test-secret-0123').toString('base64');
const OLD_SECRET = 'whsec_' + Buffer.from('previous-test-secret-987').toString('base64');

const { service, backend } = useService({ backend: { secret: SECRET }, env: { WEBHOOK_SECRET_PREVIOUS: OLD_SECRET } });

/** The job's capability URL as the dispatch carries it, or one with another token. */
const callbackUrl = (jobId: string, token = completionToken(SECRET, jobId)) => capabilityUrl(service, jobId, token);

/** Starts a job whose backend never answers it (the test completes it): its id. */
const hangingJob = async (task = 'crm'): Promise<string> =>
  (await service.post('/jobs/start', { task, behaviour: 'hang' })).body.jobId;

describe('push mode', () => {
  it('dispatches a signed job and completes it from its capability URL, result byte-identical', async () => {
    const start = await service.post('/jobs/start', { task: 'crm', behaviour: 'push', delayMs: 300 });
    expect(start.body.status).toBe('PENDING');
    const dispatch = backend.dispatches.find((d) => d.jobId === start.body.jobId)!;
    expect(dispatch).toMatchObject({ input: { task: 'crm', behaviour: 'push', delayMs: '300' } });
    expect(pathOf(dispatch.callbackUrl)).toBe(pathOf(callbackUrl(start.body.jobId)));
    expect(Date.parse(dispatch.deadline)).toBeGreaterThan(Date.now());
    expect(await waitForFinal(service, start.body.jobId)).toMatchObject({ status: 'COMPLETED' });
    const result = await service.post('/jobs/result', { jobId: start.body.jobId });
    expect(JSON.stringify(result.body.result)).toBe(JSON.stringify(backend.results.get(start.body.jobId)));
  });

  it('ends the hold the moment the completion arrives', async () => {
    const start = await service.post('/jobs/start', { task: 'crm', behaviour: 'push', delayMs: 2500 });
    const jobId = start.body.jobId;
    const callSid = newCallSid();
    const hold = await service.post(`/hold?jobId=${jobId}&flowSid=${FLOW_SID}`, { CallSid: callSid });
    await service.join(`hold_${jobId}`, callSid, attribute(hold.text, 'statusCallback'));
    await service.post(pathOf(attribute(hold.text, 'waitUrl')!));
    const began = Date.now();
    const released = await service.released(callSid, 10_000);
    expect(released.released).toBe(true);
    expect(Date.now() - began).toBeGreaterThan(1000); // released by the completion, not the first wait turn
    while (!backend.completions.some((c) => c.jobId === jobId)) await sleep(20);
    expect(backend.completions.find((c) => c.jobId === jobId)).toMatchObject({
      status: 200,
      body: { released: true, duplicate: false },
    });
    // Released by redirecting the call to the after-hold URL (no conference lookup), which hands it back to Studio.
    expect(released).toMatchObject({
      reason: 'call-redirected',
      url: expect.stringContaining(`releasedWith=COMPLETED`),
    });
    const after = await service.post(pathOf(released.url!));
    expect(after.text).toContain(`FlowEvent=return&amp;status=COMPLETED`);
  });

  it('releases a caller whose completion arrives before they join the room (their call is redirected)', async () => {
    const jobId = await hangingJob();
    const callSid = newCallSid();
    await service.createCall(callSid);
    const hold = await service.post(`/hold?jobId=${jobId}&flowSid=${FLOW_SID}`, { CallSid: callSid }); // PENDING: Dial TwiML
    expect(hold.text).toContain('<Dial');
    const completion = await sendCompletion(callbackUrl(jobId), { status: 'COMPLETED', result: { ok: 1 } });
    expect(completion).toMatchObject({ status: 200, body: { released: true } });
    const released = await service.released(callSid, 5000);
    expect(released).toMatchObject({ released: true, reason: 'call-redirected' });
    expect((await service.post(pathOf(released.url!))).text).toContain('FlowEvent=return&amp;status=COMPLETED');
  });

  it('releases at the first wait turn a caller whose /hold carried no CallSid', async () => {
    const jobId = await hangingJob();
    const hold = await service.post(`/hold?jobId=${jobId}&flowSid=${FLOW_SID}`);
    const completion = await sendCompletion(callbackUrl(jobId), { status: 'COMPLETED', result: { ok: 1 } });
    expect(completion).toMatchObject({ status: 200, body: { released: false } });
    // The caller's <Dial> runs now: the first wait turn sees the finished job and releases them.
    const callSid = newCallSid();
    await service.join(`hold_${jobId}`, callSid, attribute(hold.text, 'statusCallback'));
    await service.post(pathOf(attribute(hold.text, 'waitUrl')!), { CallSid: callSid });
    const released = await service.released(callSid, 5000);
    expect(released).toMatchObject({ released: true, reason: 'call-redirected' });
    expect((await service.post(pathOf(released.url!))).text).toContain('FlowEvent=return&amp;status=COMPLETED');
  });

  it('acknowledges a duplicate completion, refuses a conflicting one, and keeps the first', async () => {
    const jobId = await hangingJob();
    expect(await sendCompletion(callbackUrl(jobId), { status: 'COMPLETED', result: { a: 1, b: 2 } })).toMatchObject({
      status: 200,
      body: { duplicate: false },
    });
    expect(await sendCompletion(callbackUrl(jobId), { status: 'COMPLETED', result: { b: 2, a: 1 } })).toMatchObject({
      status: 200,
      body: { duplicate: true },
    });
    expect(await sendCompletion(callbackUrl(jobId), { status: 'FAILED', error: 'late failure' })).toMatchObject({
      status: 409,
      body: { error: { code: 'JOB_ALREADY_FINAL' } },
    });
    expect((await service.post('/jobs/result', { jobId })).body).toEqual({
      jobId,
      status: 'COMPLETED',
      result: { a: 1, b: 2 },
    });
  });

  it('refuses a completion after the deadline and keeps TIMED_OUT', async () => {
    const start = await service.post('/jobs/start', { task: 'crm', behaviour: 'hang', maxHoldSeconds: 10 });
    await sleep(10_100);
    const late = await sendCompletion(callbackUrl(start.body.jobId), { status: 'COMPLETED', result: { late: true } });
    expect(late).toMatchObject({
      status: 409,
      body: { error: { code: 'JOB_ALREADY_FINAL', message: expect.stringContaining('TIMED_OUT') } },
    });
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
    expect(start.body).toMatchObject({
      status: 'COMPLETED',
      retryAfter: 0,
      result: { answer: `done ${start.body.jobId}` },
    });
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

describe("results up to Studio's 64 KB", () => {
  it('stores a 50 KB result across documents and returns it exactly', async () => {
    const start = await service.post('/jobs/start', {
      task: 'big',
      behaviour: 'push',
      delayMs: 100,
      resultBytes: 50_000,
    });
    await waitForFinal(service, start.body.jobId);
    const result = await fetch(`${service.stack.baseUrl}/jobs/result?jobId=${start.body.jobId}`);
    const text = await result.text();
    expect(Buffer.byteLength(text)).toBeLessThan(64 * 1024);
    expect(JSON.stringify(JSON.parse(text).result)).toBe(JSON.stringify(backend.results.get(start.body.jobId)));
  });

  it('refuses a result over the limit with 413 and leaves the job pending', async () => {
    const start = await service.post('/jobs/start', { task: 'huge', behaviour: 'hang' });
    const reply = await sendCompletion(callbackUrl(start.body.jobId), {
      status: 'COMPLETED',
      result: { blob: 'x'.repeat(70_000) },
    });
    expect(reply).toMatchObject({ status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE' } } });
    expect((await service.post('/jobs/status', { jobId: start.body.jobId })).body.status).toBe('PENDING');
  });
});

describe('completions at the capability URL', () => {
  let jobId: string;
  let otherJobId: string;
  beforeAll(async () => {
    jobId = await hangingJob('sig');
    otherJobId = await hangingJob('sig-other');
  });
  const body = { status: 'COMPLETED', result: { forged: true } };
  const stranger = 'whsec_' + Buffer.from('attacker-secret-00000000').toString('base64');

  it.each([
    ['without a token', () => `${service.stack.baseUrl}/jobs/complete?jobId=${jobId}`],
    ['without the URL at all', () => `${service.stack.baseUrl}/jobs/complete`],
    ['with a forged token', () => callbackUrl(jobId, 'A'.repeat(43))],
    ['with a truncated token', () => callbackUrl(jobId, completionToken(SECRET, jobId).slice(0, 42))],
    ["with another job's token", () => callbackUrl(jobId, completionToken(SECRET, otherJobId))],
    [
      'with a token minted under a secret that is not configured',
      () => callbackUrl(jobId, completionToken(stranger, jobId)),
    ],
  ])('refuses a completion %s with 401 and changes nothing', async (_name, url) => {
    const before = JSON.stringify(service.stack.emulator.state().documents.map((d) => d.revision));
    const reply = await sendCompletion(url(), body);
    expect(reply).toMatchObject({
      status: 401,
      body: { error: { code: 'INVALID_TOKEN', message: expect.any(String) } },
    });
    expect(JSON.stringify(service.stack.emulator.state().documents.map((d) => d.revision))).toBe(before);
    expect((await service.post('/jobs/status', { jobId })).body.status).toBe('PENDING');
  });

  it('accepts a token minted under the previous secret during a rotation', async () => {
    const reply = await sendCompletion(callbackUrl(otherJobId, completionToken(OLD_SECRET, otherJobId)), {
      status: 'COMPLETED',
      result: { rotated: true },
    });
    expect(reply).toMatchObject({ status: 200, body: { status: 'COMPLETED', duplicate: false } });
  });

  it('gives a 400 naming the problem for a malformed completion', async () => {
    const reply = await sendCompletion(callbackUrl(jobId), { status: 'DONE' });
    expect(reply).toEqual({
      status: 400,
      body: {
        error: { code: 'INVALID_PARAMETER', message: 'status must be COMPLETED, FAILED or PENDING (a heartbeat)' },
      },
    });
  });

  it('acknowledges a repeat of the same outcome and refuses a different one with 409', async () => {
    const first = await sendCompletion(callbackUrl(jobId), { status: 'COMPLETED', result: { answer: 42 } });
    expect(first).toMatchObject({ status: 200, body: { status: 'COMPLETED', duplicate: false } });
    const again = await sendCompletion(callbackUrl(jobId), { status: 'COMPLETED', result: { answer: 42 } });
    expect(again).toMatchObject({ status: 200, body: { status: 'COMPLETED', duplicate: true, released: false } });
    const other = await sendCompletion(callbackUrl(jobId), { status: 'FAILED', error: 'changed its mind' });
    expect(other).toMatchObject({ status: 409, body: { error: { code: 'JOB_ALREADY_FINAL' } } });
    expect((await service.post('/jobs/result', { jobId })).body).toMatchObject({
      status: 'COMPLETED',
      result: { answer: 42 },
    });
  });
});

describe('results round-trip exactly as JSON.parse of what the backend sent', () => {
  const cases: Array<[string, string]> = [
    ['integer-like keys', '{"2024":{"total":1},"7":"seven","b":1,"a":[1,2]}'],
    ['a number written 1.0', '{"amount":1.0,"rate":2.50,"big":1e21}'],
    ['non-ASCII text', '{"message":"Grüße, こんにちは, 🎉","name":"Zoë"}'],
    ['nested arrays', '{"matrix":[[1,[2,[3,[]]]],[{"k":[null,true,false]}]]}'],
    [
      '50 KB',
      JSON.stringify({
        blob: 'é'.repeat(12_000) + 'x'.repeat(26_000),
        list: Array.from({ length: 200 }, (_, i) => ({ [String(i)]: i })),
      }),
    ],
  ];
  it.each(cases)('%s', async (_name, resultText) => {
    const jobId = await hangingJob(`exact-${_name}`);
    const raw = `{"status":"COMPLETED","result":${resultText}}`;
    const response = await fetch(callbackUrl(jobId), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: raw,
    });
    expect(response.status).toBe(200);
    const reply = await fetch(`${service.stack.baseUrl}/jobs/result?jobId=${jobId}`);
    const text = await reply.text();
    const resultJson = JSON.stringify((JSON.parse(text) as { result: unknown }).result);
    expect(resultJson).toBe(JSON.stringify(JSON.parse(resultText)));
  });
});
