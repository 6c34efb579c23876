/**
 * Signed callbacks (Standard Webhooks): only a completion signed with a configured secret, within
 * the 5-minute window, is applied; a replay of the very same message changes nothing; during a
 * secret rotation both secrets work; unsigned callers learn nothing (not even whether a job
 * exists). Dispatches and status polls the service sends are signed the same way.
 */
import { Webhook } from 'standardwebhooks';
import { startExampleBackend, type ExampleBackend } from '../../emulator/example-backend';
import { signBody } from '../../src/lib/backend/signing';
import { bodyOf, startInProcessStack, type InProcessStack } from '../reliability/support';

const NEW_SECRET = 'whsec_' + Buffer.from('rotation-new-secret-00001').toString('base64');
const OLD_SECRET = 'whsec_' + Buffer.from('rotation-old-secret-00001').toString('base64');
const STRANGER = 'whsec_' + Buffer.from('not-one-of-ours-0000001').toString('base64');

let stack: InProcessStack;
let backend: ExampleBackend;
beforeAll(async () => {
  backend = await startExampleBackend({ secret: NEW_SECRET });
  stack = await startInProcessStack({ BACKEND_URL: backend.url, WEBHOOK_SECRET: NEW_SECRET, WEBHOOK_SECRET_PREVIOUS: OLD_SECRET });
});
afterAll(async () => {
  await stack?.stop();
  await backend?.close();
});
afterEach(() => expect(stack.emulator.violations()).toEqual([]));

const pendingJob = async () => bodyOf(await stack.post('/jobs/start', { task: 'sig', behaviour: 'manual' })).jobId as string;
const documentOf = (jobId: string) => stack.emulator.state().documents.find((doc) => doc.uniqueName === `job_${jobId}`)!;

/** Sends exactly these bytes and headers. */
const send = (raw: string, headers: Record<string, string>) =>
  stack.host.call('/jobs/complete', { json: raw, headers: { 'content-type': 'application/json', ...headers } });

describe('who may complete a job', () => {
  it.each([
    ['the current secret', NEW_SECRET],
    ['the previous secret (rotation under way)', OLD_SECRET],
  ])('a completion signed with %s is applied', async (_name, secret) => {
    const jobId = await pendingJob();
    const raw = JSON.stringify({ jobId, status: 'COMPLETED', result: { signedWith: _name } });
    const reply = await send(raw, { ...signBody(secret, raw) });
    expect(reply.status).toBe(200);
    expect(bodyOf(await stack.post('/jobs/result', { jobId })).status).toBe('COMPLETED');
  });

  it('several signatures in one header (Standard Webhooks rotation): one valid is enough', async () => {
    const jobId = await pendingJob();
    const raw = JSON.stringify({ jobId, status: 'COMPLETED', result: { several: true } });
    const headers = { ...signBody(NEW_SECRET, raw) };
    const stranger = signBody(STRANGER, raw, Date.now(), headers['webhook-id']);
    const reply = await send(raw, { ...headers, 'webhook-signature': `${stranger['webhook-signature']} ${headers['webhook-signature']}` });
    expect(reply.status).toBe(200);
  });

  it.each([
    ['signed with a secret that is not configured', (raw: string) => ({ ...signBody(STRANGER, raw) }), /no matching signature/i],
    ['stale: signed 6 minutes ago', (raw: string) => ({ ...signBody(NEW_SECRET, raw, Date.now() - 6 * 60_000) }), /timestamp/i],
    ['from the future: 6 minutes ahead', (raw: string) => ({ ...signBody(NEW_SECRET, raw, Date.now() + 6 * 60_000) }), /timestamp/i],
    ['signed over other bytes', (raw: string) => ({ ...signBody(NEW_SECRET, raw.replace('COMPLETED', 'FAILED')) }), /no matching signature/i],
    ['without webhook-signature', (raw: string) => ({ ...signBody(NEW_SECRET, raw), 'webhook-signature': '' }), /missing webhook-id, webhook-timestamp or webhook-signature/],
    ['without webhook-id', (raw: string) => ({ ...signBody(NEW_SECRET, raw), 'webhook-id': '' }), /missing webhook-id/],
    ['with a timestamp that is not unix seconds', (raw: string) => ({ ...signBody(NEW_SECRET, raw), 'webhook-timestamp': '2026-11-21T00:00:00Z' }), /unix seconds/],
    ['with a signature scheme other than v1', (raw: string) => {
      const headers = signBody(NEW_SECRET, raw);
      return { ...headers, 'webhook-signature': headers['webhook-signature'].replace('v1,', 'v2,') };
    }, /signature/i],
    ['with the id swapped for another one', (raw: string) => ({ ...signBody(NEW_SECRET, raw), 'webhook-id': 'msg_someone_else' }), /no matching signature/i],
  ])('a completion %s is refused with 401 naming why, and changes nothing', async (_name, sign, reason) => {
    const jobId = await pendingJob();
    const before = documentOf(jobId);
    const raw = JSON.stringify({ jobId, status: 'COMPLETED', result: { forged: true } });
    const reply = await send(raw, sign(raw));
    expect(reply.status).toBe(401);
    expect(bodyOf(reply)).toEqual({ error: { code: 'INVALID_SIGNATURE', message: expect.stringMatching(reason) } });
    expect(documentOf(jobId)).toEqual(before);
  });

  it('a timestamp 4 minutes old is still inside the 5-minute window', async () => {
    const jobId = await pendingJob();
    const raw = JSON.stringify({ jobId, status: 'FAILED', error: 'slow network' });
    expect((await send(raw, { ...signBody(NEW_SECRET, raw, Date.now() - 4 * 60_000) })).status).toBe(200);
  });

  it('unsigned callers learn nothing: the same 401 for a job that exists, one that does not, and nonsense', async () => {
    const jobId = await pendingJob();
    const replies = await Promise.all(
      [{ jobId, status: 'COMPLETED' }, { jobId: 'JB' + '0'.repeat(32), status: 'COMPLETED' }, { jobId: 'nope', status: 'MAYBE' }].map((body) => send(JSON.stringify(body), {})),
    );
    expect(new Set(replies.map((reply) => `${reply.status} ${reply.text}`)).size).toBe(1);
    expect(replies[0]!.status).toBe(401);
  });
});

describe('replays', () => {
  it('the exact same message sent again (same id, timestamp, signature, bytes) is acknowledged and changes nothing', async () => {
    const jobId = await pendingJob();
    const raw = JSON.stringify({ jobId, status: 'COMPLETED', result: { once: 1 } });
    const headers = { ...signBody(NEW_SECRET, raw) };
    const first = await send(raw, headers);
    expect(bodyOf(first)).toMatchObject({ status: 'COMPLETED', duplicate: false });
    const after = documentOf(jobId);
    for (let i = 0; i < 3; i++) {
      const replay = await send(raw, headers);
      expect(replay.status).toBe(200);
      expect(bodyOf(replay)).toMatchObject({ status: 'COMPLETED', duplicate: true });
    }
    expect(documentOf(jobId)).toEqual(after);
  });

  it('a captured message cannot be pointed at another job, nor turned into another outcome', async () => {
    const victim = await pendingJob();
    const jobId = await pendingJob();
    const raw = JSON.stringify({ jobId, status: 'COMPLETED', result: { mine: true } });
    const headers = { ...signBody(NEW_SECRET, raw) };
    expect((await send(raw, headers)).status).toBe(200);
    const before = documentOf(victim);
    expect((await send(raw.replace(jobId, victim), headers)).status).toBe(401);
    expect((await send(raw.replace('COMPLETED', 'FAILED'), headers)).status).toBe(401);
    expect(documentOf(victim)).toEqual(before);
  });

  it('a replay older than the window is refused outright', async () => {
    const jobId = await pendingJob();
    const raw = JSON.stringify({ jobId, status: 'COMPLETED', result: { old: true } });
    const reply = await send(raw, { ...signBody(NEW_SECRET, raw, Date.now() - 10 * 60_000) });
    expect(reply.status).toBe(401);
    expect(documentOf(jobId).data.status).toBe('PENDING');
  });
});

describe('what the service sends is signed', () => {
  it('every dispatch and status poll carries a valid signature made with the current secret', async () => {
    const start = bodyOf(await stack.post('/jobs/start', { task: 'poll-signed', behaviour: 'poll', delayMs: 100 }));
    await new Promise((resolve) => setTimeout(resolve, 1200));
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
