/**
 * Completions and signatures. A completion is applied only at its job's capability URL (the
 * dispatch's callbackUrl: jobId plus a token only the service can mint, bound to that job);
 * during a secret rotation tokens of the previous secret still work; a forged, truncated or
 * other job's token is refused with 401 and changes nothing, and callers without a token learn
 * nothing (not even whether a job exists). Dispatches and status polls the service sends are
 * signed the Standard Webhooks way, so any Standard Webhooks library verifies them.
 */
import { Webhook } from 'standardwebhooks';
import { completionToken } from '../../src/lib/backend/completion-token';
import { signBody } from '../../src/lib/backend/signing';
import { bodyOf, sleep, useInProcessStack } from '../support/in-process-stack';

const NEW_SECRET = 'whsec_' + Buffer.from('rotation-new-secret-00001').toString('base64');
const OLD_SECRET = 'whsec_' + Buffer.from('rotation-old-secret-00001').toString('base64');
const STRANGER = 'whsec_' + Buffer.from('not-one-of-ours-0000001').toString('base64');

const { stack, backend } = useInProcessStack({
  backend: { secret: NEW_SECRET },
  env: { WEBHOOK_SECRET_PREVIOUS: OLD_SECRET },
});

const pendingJob = async () =>
  bodyOf(await stack.post('/jobs/start', { task: 'sig', behaviour: 'manual' })).jobId as string;
const documentOf = (jobId: string) =>
  stack.emulator.state().documents.find((doc) => doc.uniqueName === `job_${jobId}`)!;
const documents = () => JSON.stringify(stack.emulator.state().documents.map((doc) => [doc.uniqueName, doc.revision]));

/** POSTs these bytes to /jobs/complete with this query (the capability URL's, or a forged one). */
const send = (query: string | Record<string, string>, raw: string) =>
  stack.host.call('/jobs/complete', { query, json: raw, headers: { 'content-type': 'application/json' } });
const capability = (jobId: string, secret = NEW_SECRET) => ({ jobId, token: completionToken(secret, jobId) });

describe('who may complete a job', () => {
  it('the callbackUrl a dispatch carries is the capability URL', async () => {
    const jobId = await pendingJob();
    const dispatch = backend.dispatches.find((d) => d.jobId === jobId)!;
    const url = new URL(dispatch.callbackUrl);
    expect(url.pathname).toBe('/jobs/complete');
    expect(Object.fromEntries(url.searchParams)).toEqual(capability(jobId));
    expect(url.searchParams.get('token')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it.each([
    ['the current secret', NEW_SECRET],
    ['the previous secret (rotation under way)', OLD_SECRET],
  ])('a completion with a token of %s is applied', async (_name, secret) => {
    const jobId = await pendingJob();
    const reply = await send(
      capability(jobId, secret),
      JSON.stringify({ status: 'COMPLETED', result: { tokenOf: _name } }),
    );
    expect(reply.status).toBe(200);
    expect(bodyOf(await stack.post('/jobs/result', { jobId }))).toMatchObject({
      status: 'COMPLETED',
      result: { tokenOf: _name },
    });
  });

  it.each([
    [
      'with a token of a secret that is not configured',
      (jobId: string) => capability(jobId, STRANGER),
      /not valid for this job/,
    ],
    [
      "with another job's token",
      (jobId: string, other: string) => ({ jobId, token: completionToken(NEW_SECRET, other) }),
      /not valid for this job/,
    ],
    [
      'with a truncated token',
      (jobId: string) => ({ jobId, token: completionToken(NEW_SECRET, jobId).slice(0, 20) }),
      /not valid for this job/,
    ],
    [
      'with a forged token of the right length',
      (jobId: string) => ({ jobId, token: 'A'.repeat(43) }),
      /not valid for this job/,
    ],
    [
      'with the token one character off',
      (jobId: string) => {
        const token = completionToken(NEW_SECRET, jobId);
        return { jobId, token: `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}` };
      },
      /not valid for this job/,
    ],
    ['without a token', (jobId: string) => ({ jobId }), /callbackUrl/],
    [
      'with the token as a list',
      (jobId: string) => `jobId=${jobId}&token[]=${completionToken(NEW_SECRET, jobId)}`,
      /callbackUrl/,
    ],
  ])('a completion %s is refused with 401 naming why, and changes nothing', async (_name, query, reason) => {
    const jobId = await pendingJob();
    const other = await pendingJob();
    const before = documents();
    const reply = await send(query(jobId, other), JSON.stringify({ status: 'COMPLETED', result: { forged: true } }));
    expect(reply.status).toBe(401);
    expect(bodyOf(reply)).toEqual({ error: { code: 'INVALID_TOKEN', message: expect.stringMatching(reason) } });
    expect(documents()).toBe(before);
  });

  it('a token bound to one job cannot complete another job named in the body', async () => {
    const victim = await pendingJob();
    const jobId = await pendingJob();
    const before = documentOf(victim);
    const reply = await send(
      capability(jobId),
      JSON.stringify({ jobId: victim, status: 'COMPLETED', result: { mine: true } }),
    );
    expect(reply.status).toBe(401);
    expect(documentOf(victim)).toEqual(before);
  });

  it('callers without a token learn nothing: the same 401 for a job that exists, one that does not, and nonsense', async () => {
    const jobId = await pendingJob();
    const replies = await Promise.all(
      [{ jobId }, { jobId: 'JB' + '0'.repeat(32) }, { jobId: 'nope' }].map((query) =>
        send(query, JSON.stringify({ status: 'MAYBE' })),
      ),
    );
    expect(new Set(replies.map((reply) => `${reply.status} ${reply.text}`)).size).toBe(1);
    expect(replies[0]!.status).toBe(401);
  });
});

describe('repeats', () => {
  it('the same completion sent again is acknowledged as a duplicate and changes nothing', async () => {
    const jobId = await pendingJob();
    const raw = JSON.stringify({ status: 'COMPLETED', result: { once: 1 } });
    const first = await send(capability(jobId), raw);
    expect(bodyOf(first)).toMatchObject({ status: 'COMPLETED', duplicate: false });
    const after = documentOf(jobId);
    for (let i = 0; i < 3; i++) {
      const replay = await send(capability(jobId), raw);
      expect(replay.status).toBe(200);
      expect(bodyOf(replay)).toMatchObject({ status: 'COMPLETED', duplicate: true });
    }
    expect(documentOf(jobId)).toEqual(after);
  });

  it('a different outcome for a final job is refused with 409 and changes nothing', async () => {
    const jobId = await pendingJob();
    expect(
      (await send(capability(jobId), JSON.stringify({ status: 'COMPLETED', result: { first: true } }))).status,
    ).toBe(200);
    const after = documentOf(jobId);
    const reply = await send(capability(jobId), JSON.stringify({ status: 'FAILED', error: 'second thoughts' }));
    expect(reply.status).toBe(409);
    expect(bodyOf(reply).error.code).toBe('JOB_ALREADY_FINAL');
    expect(documentOf(jobId)).toEqual(after);
  });
});

describe('what the service sends is signed', () => {
  it('every dispatch and status poll carries a valid signature made with the current secret', async () => {
    const start = bodyOf(await stack.post('/jobs/start', { task: 'poll-signed', behaviour: 'poll', delayMs: 100 }));
    await sleep(1200);
    await stack.post('/hold/wait', {}, `jobId=${start.jobId}&turn=1&pollAt=0`);
    expect(backend.dispatches.some((d) => d.jobId === start.jobId)).toBe(true);
    // The example backend verifies with NEW_SECRET only and counts what fails.
    expect(backend.rejectedSignatures).toBe(0);
    expect(bodyOf(await stack.post('/jobs/status', { jobId: start.jobId })).status).toBe('COMPLETED');
  });

  it('a dispatch signature does not verify with the previous secret (the newest one signs)', () => {
    const raw = '{"jobId":"JB0"}';
    const headers = signBody(NEW_SECRET, raw);
    expect(() => new Webhook(OLD_SECRET).verify(raw, headers)).toThrow();
    expect(() => new Webhook(NEW_SECRET).verify(raw, headers)).not.toThrow();
  });
});
