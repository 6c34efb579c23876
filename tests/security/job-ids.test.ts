/**
 * Job ids cannot be guessed: an id made from an idempotency key (Studio's execution SID, which is
 * not secret) is an HMAC keyed with a secret, and an id made without a key is random; both carry
 * 128 bits. Knowing the key, or having seen other ids, does not give anyone a job id.
 */
import { createHash, createHmac } from 'node:crypto';
import { loadConfig } from '../../src/lib/config';
import { isJobId, jobIdForKey, randomJobId } from '../../src/lib/jobs/job-id';
import { bodyOf, startInProcessStack } from '../support/in-process-stack';

const SECRET_A = 'whsec_' + Buffer.from('job-id-secret-a-00000001').toString('base64');
const SECRET_B = 'whsec_' + Buffer.from('job-id-secret-b-00000001').toString('base64');
const ACCOUNT = 'AC' + '1'.repeat(32);

/** Bits of a job id: JB + 32 hex digits. */
const bitsOf = (id: string) =>
  BigInt(`0x${id.slice(2)}`)
    .toString(2)
    .padStart(128, '0');

/** How many of the ids have each of the 128 bits set. */
function onesPerBit(ids: string[]): number[] {
  const ones = Array<number>(128).fill(0);
  for (const id of ids)
    bitsOf(id)
      .split('')
      .forEach((bit, i) => (ones[i]! += bit === '1' ? 1 : 0));
  return ones;
}

describe('ids made from an idempotency key', () => {
  const key = 'FN0123456789abcdef0123456789abcdef';

  it('are the same for the same secret and key (idempotency), and 128 bits of hex', () => {
    expect(jobIdForKey(SECRET_A, key)).toBe(jobIdForKey(SECRET_A, key));
    expect(jobIdForKey(SECRET_A, key)).toMatch(/^JB[0-9a-f]{32}$/);
    expect(isJobId(jobIdForKey(SECRET_A, key))).toBe(true);
  });

  it('differ with the secret: the key alone does not give the id', () => {
    const id = jobIdForKey(SECRET_A, key);
    expect(jobIdForKey(SECRET_B, key)).not.toBe(id);
    // What someone who knows only the key could compute:
    const guesses = [
      createHash('sha256').update(key).digest('hex'),
      createHash('md5').update(key).digest('hex'),
      createHmac('sha256', '').update(key).digest('hex'),
      createHmac('sha256', key).update(key).digest('hex'),
      createHmac('sha256', 'default').update(key).digest('hex'),
      Buffer.from(key).toString('hex'),
    ].map((hex) => `JB${hex.slice(0, 32)}`);
    expect(guesses).not.toContain(id);
  });

  it('of neighbouring keys share nothing visible (each bit flips about half the time)', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => jobIdForKey(SECRET_A, `FN${String(i).padStart(32, '0')}`));
    expect(new Set(ids).size).toBe(ids.length);
    for (const count of onesPerBit(ids)) expect(Math.abs(count / ids.length - 0.5)).toBeLessThan(0.06);
  });

  it('are keyed with JOB_ID_SECRET, else WEBHOOK_SECRET, else the account credentials (never a constant)', () => {
    const base = { ACCOUNT_SID: ACCOUNT, AUTH_TOKEN: 'token-1' };
    expect(loadConfig({ ...base, JOB_ID_SECRET: 'explicit', WEBHOOK_SECRET: SECRET_A }).jobIdSecret).toBe('explicit');
    expect(loadConfig({ ...base, WEBHOOK_SECRET: SECRET_A }).jobIdSecret).toBe(SECRET_A);
    const fromToken = loadConfig(base).jobIdSecret;
    expect(fromToken).toContain('token-1');
    expect(loadConfig({ ...base, AUTH_TOKEN: 'token-2' }).jobIdSecret).not.toBe(fromToken);
  });
});

describe('ids made without a key', () => {
  it('are random: 20,000 distinct, every bit about half ones', () => {
    const ids = Array.from({ length: 20_000 }, randomJobId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every(isJobId)).toBe(true);
    for (const count of onesPerBit(ids)) expect(Math.abs(count / ids.length - 0.5)).toBeLessThan(0.03);
  });
});

describe('the service', () => {
  it('gives the same key different ids on services with different secrets; an unknown id reveals nothing', async () => {
    const a = await startInProcessStack({ WEBHOOK_SECRET: SECRET_A });
    const b = await startInProcessStack({ WEBHOOK_SECRET: SECRET_B });
    try {
      const key = 'FNfeedfacefeedfacefeedfacefeedface';
      const idA = bodyOf(await a.post('/jobs/start', { idempotencyKey: key, task: 't' })).jobId;
      const idB = bodyOf(await b.post('/jobs/start', { idempotencyKey: key, task: 't' })).jobId;
      expect(idA).toMatch(/^JB[0-9a-f]{32}$/);
      expect(idB).not.toBe(idA);
      expect(idA).toBe(jobIdForKey(SECRET_A, key));
      // Without a key (no idempotencyKey, no CallSid) the id is random.
      const unkeyed = await Promise.all([a.post('/jobs/start', { task: 't' }), a.post('/jobs/start', { task: 't' })]);
      expect(bodyOf(unkeyed[0]!).jobId).not.toBe(bodyOf(unkeyed[1]!).jobId);
      // A near miss of a real id gets the same answer as any unknown id.
      const nearMiss = `${idA.slice(0, -1)}${idA.endsWith('0') ? '1' : '0'}`;
      const replies = await Promise.all(
        [nearMiss, 'JB' + '0'.repeat(32)].map((jobId) => a.post('/jobs/status', { jobId })),
      );
      expect(replies.map((r) => r.status)).toEqual([404, 404]);
      const [nearMissMessage, unknownMessage] = replies.map((r) =>
        bodyOf(r).error.message.replace(/JB[0-9a-f]{32}/, 'JB…'),
      );
      expect(nearMissMessage).toBe(unknownMessage);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
