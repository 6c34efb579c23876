/**
 * Heartbeats (progress, message, a later deadline) at the job's capability URL, what the hold
 * loop says about them, and the cancel event a backend gets when a pending job ends without it.
 */
import { Webhook } from 'standardwebhooks';
import { completionToken } from '../../src/lib/backend/completion-token';
import { LIMITS } from '../../src/lib/contracts';
import type { JobRecord } from '../../src/lib/jobs/job';
import type { ExampleBackend } from '../../backends/example-backend';
import { createEmulatorTwilioClient } from '../../dev/emulator-client';
import { LOCAL_ACCOUNT_SID, LOCAL_AUTH_TOKEN } from '../../dev/credentials';
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
import { waitFor } from '../support/wait';

const SECRET = 'whsec_' + Buffer.from('progress-test-secret-456').toString('base64');

const { service, backend } = useService({ backend: { secret: SECRET } });

/** Sends a heartbeat or completion to the job's capability URL. */
const post = (jobId: string, body: object) =>
  sendCompletion(capabilityUrl(service, jobId, completionToken(SECRET, jobId)), body);

/** The job document as stored (what /jobs/status does not show). */
async function document(jobId: string): Promise<{ data: JobRecord; revision: string }> {
  const client = createEmulatorTwilioClient(service.stack.emulator.url, {
    accountSid: LOCAL_ACCOUNT_SID,
    authToken: LOCAL_AUTH_TOKEN,
  });
  const doc = await client.sync.v1.services('default').documents(`job_${jobId}`).fetch();
  return { data: doc.data as JobRecord, revision: doc.revision };
}
const stored = async (jobId: string) => (await document(jobId)).data;

async function startJob(params: Record<string, string | number> = {}): Promise<string> {
  const start = await service.post('/jobs/start', { task: 'progress-test', behaviour: 'manual', ...params });
  expect(start.status).toBe(200);
  return start.body.jobId as string;
}

/** One hold-loop turn as Twilio asks for it. */
async function turn(jobId: string, query: Record<string, string | number> = {}) {
  const search = new URLSearchParams({
    jobId,
    flowSid: FLOW_SID,
    ...Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])),
  });
  const reply = await service.post(`/hold/wait?${search.toString()}`);
  expect(reply.status).toBe(200);
  const next = new URL(/<Redirect[^>]*>([^<]+)<\/Redirect>/.exec(reply.text)![1]!.replace(/&amp;/g, '&'));
  return {
    text: reply.text,
    says: [...reply.text.matchAll(/<Say[^>]*>([^<]*)<\/Say>/g)].map((m) => m[1]),
    next: Object.fromEntries(next.searchParams),
  };
}

describe('heartbeats at the capability URL', () => {
  it('stores progress and message, shows them in /jobs/status, and stores at most one a second', async () => {
    const jobId = await startJob();
    const first = await post(jobId, { status: 'PENDING', progress: 40, message: 'Checking your order' });
    expect(first).toMatchObject({ status: 200, body: { jobId, status: 'PENDING', accepted: true, stored: true } });
    const second = await post(jobId, { status: 'PENDING', progress: 45, message: 'Too soon' });
    expect(second).toMatchObject({ status: 200, body: { accepted: true, stored: false } });
    const status = await service.get(`/jobs/status?jobId=${jobId}`);
    expect(status.body).toMatchObject({ status: 'PENDING', progress: 40, message: 'Checking your order' });
    await sleep(LIMITS.heartbeatMinIntervalMs + 100);
    expect(await post(jobId, { status: 'PENDING', progress: 70 })).toMatchObject({ body: { stored: true } });
    // Fields a heartbeat leaves out keep their value.
    expect((await service.get(`/jobs/status?jobId=${jobId}`)).body).toMatchObject({
      progress: 70,
      message: 'Checking your order',
    });
    // Once final, progress and message are no longer shown.
    await post(jobId, { status: 'COMPLETED', result: { ok: true } });
    const final = (await service.get(`/jobs/status?jobId=${jobId}`)).body;
    expect(final.status).toBe('COMPLETED');
    expect(final).not.toHaveProperty('message');
    expect(final).not.toHaveProperty('progress');
  });

  it('moves the deadline by extendSeconds, never earlier, capped at LIMITS.maxHoldSeconds from the creation', async () => {
    const before = Date.now();
    const jobId = await startJob({ maxHoldSeconds: 60 });
    const { createdAt, deadline } = await stored(jobId);
    expect(deadline - createdAt).toBe(60_000);
    const earlier = await post(jobId, { status: 'PENDING', extendSeconds: 5 });
    expect(Date.parse(earlier.body.deadline)).toBe(deadline);
    await sleep(LIMITS.heartbeatMinIntervalMs + 50);
    const later = await post(jobId, { status: 'PENDING', extendSeconds: 600 });
    expect(Date.parse(later.body.deadline)).toBeGreaterThanOrEqual(before + 600_000);
    expect(Date.parse(later.body.deadline)).toBeLessThanOrEqual(Date.now() + 600_000);
    await sleep(LIMITS.heartbeatMinIntervalMs + 50);
    const capped = await post(jobId, { status: 'PENDING', extendSeconds: LIMITS.maxHoldSeconds });
    expect(Date.parse(capped.body.deadline)).toBe(createdAt + LIMITS.maxHoldSeconds * 1000);
    expect((await stored(jobId)).deadline).toBe(createdAt + LIMITS.maxHoldSeconds * 1000);
    const tooLong = await post(jobId, { status: 'PENDING', extendSeconds: LIMITS.maxHoldSeconds + 1 });
    expect(tooLong.status).toBe(400);
  });

  it('refuses a bad message with a 400 naming the problem, and writes nothing', async () => {
    const jobId = await startJob();
    const cases: Array<[object, RegExp]> = [
      [{ status: 'PENDING', message: 'line one\nline two' }, /control character U\+000A/],
      [{ status: 'PENDING', message: 'bell\u0007' }, /control character U\+0007/],
      [{ status: 'PENDING', message: 'x'.repeat(LIMITS.progressMessageChars + 1) }, /at most 200/],
      [{ status: 'PENDING', message: 42 }, /message must be a string/],
      [{ status: 'PENDING', progress: 140 }, /progress must be a number from 0 to 100/],
      [{ status: 'PENDING', result: { early: true } }, /not result or error/],
    ];
    for (const [body, message] of cases) {
      const reply = await post(jobId, body);
      expect(reply.status).toBe(400);
      expect(reply.body.error.code).toBe('INVALID_PARAMETER');
      expect(reply.body.error.message).toMatch(message);
    }
    const record = await stored(jobId);
    expect(record.heartbeatAt).toBeUndefined();
    expect(record.message).toBeUndefined();
    // Nothing was written, so the next good heartbeat is stored at once.
    expect(await post(jobId, { status: 'PENDING', message: 'fine' })).toMatchObject({
      status: 200,
      body: { stored: true },
    });
  });

  it('refuses a heartbeat for a final job with 409, like a late completion', async () => {
    const jobId = await startJob();
    await post(jobId, { status: 'FAILED', error: 'nope' });
    const late = await post(jobId, { status: 'PENDING', progress: 10 });
    expect(late).toMatchObject({ status: 409, body: { error: { code: 'JOB_ALREADY_FINAL' } } });
  });
});

describe('the hold loop speaks the progress', () => {
  it("says the latest message every N turns in the job's voice and language, never twice in a row", async () => {
    const jobId = await startJob({
      progressEveryTurns: 2,
      progressVoice: 'Polly.Joanna-Neural',
      progressLanguage: 'en-GB',
    });
    expect(backend.dispatches.find((d) => d.jobId === jobId)!.input).not.toHaveProperty('progressVoice');
    // Nothing to say yet.
    let t = await turn(jobId);
    expect(t.says).toEqual([]);
    await post(jobId, { status: 'PENDING', progress: 30, message: 'We are checking your order' });
    t = await turn(jobId, t.next);
    expect(t.next.turn).toBe('2');
    expect(t.says).toEqual([]); // turn 1: not a speaking turn
    t = await turn(jobId, t.next); // turn 2
    expect(t.says).toEqual(['We are checking your order']);
    expect(t.text).toMatch(/<Say voice="Polly.Joanna-Neural" language="en-GB">We are checking your order<\/Say><Play>/);
    expect(t.next.said).toMatch(/^[A-Za-z0-9_-]{10}$/);
    t = await turn(jobId, t.next); // turn 3
    t = await turn(jobId, t.next); // turn 4: same message, not said again
    expect(t.says).toEqual([]);
    await sleep(LIMITS.heartbeatMinIntervalMs + 50);
    await post(jobId, { status: 'PENDING', message: 'Nearly there' });
    t = await turn(jobId, t.next); // turn 5
    t = await turn(jobId, t.next); // turn 6
    expect(t.says).toEqual(['Nearly there']);
    await post(jobId, { status: 'COMPLETED', result: {} });
  });

  it('says a progress phrase when there is no message, in English only', async () => {
    const english = await startJob({ progressEveryTurns: 1 });
    await post(english, { status: 'PENDING', progress: 62 });
    expect((await turn(english)).says).toEqual(['About 60 percent done.']);
    const spanish = await startJob({ progressEveryTurns: 1, progressLanguage: 'es-MX' });
    await post(spanish, { status: 'PENDING', progress: 62 });
    expect((await turn(spanish)).says).toEqual([]);
    await sleep(LIMITS.heartbeatMinIntervalMs + 50);
    expect(await post(spanish, { status: 'PENDING', message: 'Seguimos revisando' })).toMatchObject({
      body: { stored: true },
    });
    expect((await turn(spanish)).text).toMatch(/<Say language="es-MX">Seguimos revisando<\/Say>/);
  });

  it('says nothing when progressEveryTurns is 0 (the default) and refuses a malformed voice', async () => {
    const jobId = await startJob();
    await post(jobId, { status: 'PENDING', message: 'Working' });
    expect((await turn(jobId)).says).toEqual([]);
    const bad = await service.post('/jobs/start', { task: 'x', progressVoice: 'Polly.<Joanna>' });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'INVALID_PARAMETER' } } });
  });
});

describe('cancellation reaches the backend', () => {
  const verify = (cancel: ExampleBackend['cancels'][number]) =>
    new Webhook(SECRET).verify(cancel.rawBody, cancel.headers);

  it('a caller who hangs up: one signed job.cancelled to the cancelUrl, recorded on the job', async () => {
    const jobId = await startJob({ cancelUrl: 'true' });
    expect((await stored(jobId)).cancelUrl).toMatch(new RegExp(`/cancel/${jobId}$`));
    const callSid = newCallSid();
    await service.createCall(callSid);
    const hold = await service.post(`/hold?jobId=${jobId}&flowSid=${FLOW_SID}`, { CallSid: callSid });
    await service.join(`hold_${jobId}`, callSid, attribute(hold.text, 'statusCallback'));
    await service.post(pathOf(attribute(hold.text, 'waitUrl')!));
    await service.hangup(callSid);
    expect(await waitForFinal(service, jobId)).toMatchObject({ status: 'CANCELLED' });
    const cancel = await waitFor(() => backend.cancels.find((c) => c.jobId === jobId), 5000);
    expect(cancel).toMatchObject({
      type: 'job.cancelled',
      jobId,
      status: 'CANCELLED',
      reason: 'CALLER_HUNG_UP',
      via: 'cancelUrl',
    });
    expect(verify(cancel)).toMatchObject({ type: 'job.cancelled', jobId });
    // The intent rode with the final write, and nothing is written after it.
    const final = await document(jobId);
    expect(final.data).toMatchObject({ status: 'CANCELLED', cancelNotice: 'pending', finishedBy: 'hangup' });
    // The hang-up seen again (a second leave callback, the Dial action) sends nothing more.
    await service.post(`/hold/events?jobId=${jobId}`, { StatusCallbackEvent: 'participant-leave', CallSid: callSid });
    await service.post(`/hold?jobId=${jobId}&flowSid=${FLOW_SID}`, { CallSid: callSid, CallStatus: 'completed' });
    await sleep(300);
    expect(backend.cancels.filter((c) => c.jobId === jobId)).toHaveLength(1);
    expect((await document(jobId)).revision).toBe(final.revision);
  });

  it('the deadline passing while pending: one signed event to BACKEND_URL, and never one for COMPLETED or FAILED', async () => {
    const timedOut = await startJob({ maxHoldSeconds: LIMITS.minHoldSeconds });
    const completed = await startJob({ maxHoldSeconds: LIMITS.minHoldSeconds, cancelUrl: 'true' });
    const failed = await startJob({ maxHoldSeconds: LIMITS.minHoldSeconds });
    await post(completed, { status: 'COMPLETED', result: { ok: 1 } });
    await post(failed, { status: 'FAILED', error: 'nope' });
    await sleep(LIMITS.minHoldSeconds * 1000 + 200);
    // Several requests see the deadline at once; only the one whose write lands sends the event.
    const seen = await Promise.all([
      service.get(`/jobs/status?jobId=${timedOut}`),
      service.post('/jobs/result', { jobId: timedOut }),
      turn(timedOut),
    ]);
    expect(seen[0].body.status).toBe('TIMED_OUT');
    const cancel = await waitFor(() => backend.cancels.find((c) => c.jobId === timedOut), 5000);
    expect(cancel).toMatchObject({
      type: 'job.cancelled',
      jobId: timedOut,
      status: 'TIMED_OUT',
      reason: 'TIMED_OUT',
      via: 'dispatchUrl',
    });
    expect(verify(cancel)).toMatchObject({ jobId: timedOut, status: 'TIMED_OUT' });
    expect(Date.parse(cancel.at)).toBeGreaterThan(0);
    await sleep(300);
    expect(backend.cancels.filter((c) => c.jobId === timedOut)).toHaveLength(1);
    expect(await stored(timedOut)).toMatchObject({ status: 'TIMED_OUT', cancelNotice: 'pending' });
    expect(backend.cancels.filter((c) => c.jobId === completed || c.jobId === failed)).toEqual([]);
    expect(await stored(completed)).not.toHaveProperty('cancelNotice');
  });
});
