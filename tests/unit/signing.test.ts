import { signBody, verifyBody } from '../../src/lib/backend/signing';

const secretA = 'whsec_' + Buffer.from('first-secret-of-24-bytes').toString('base64');
const secretB = 'whsec_' + Buffer.from('second-secret-24-bytes!!').toString('base64');
const body = JSON.stringify({ jobId: 'JB' + 'a'.repeat(32), status: 'COMPLETED', result: { ok: true } });

describe('Standard Webhooks signatures', () => {
  it('accepts a body signed with the current secret', () => {
    const headers = signBody(secretA, body);
    expect(verifyBody([secretA], body, headers)).toEqual({ ok: true, webhookId: headers['webhook-id'] });
  });

  it('accepts the previous secret during a rotation, and several signatures in one header', () => {
    const old = signBody(secretB, body);
    expect(verifyBody([secretA, secretB], body, old).ok).toBe(true);
    const now = Date.now();
    const both = signBody(secretA, body, now, 'msg_1');
    const fromB = signBody(secretB, body, now, 'msg_1');
    const header = `${fromB['webhook-signature']} ${both['webhook-signature']}`;
    expect(verifyBody([secretA], body, { ...both, 'webhook-signature': header }).ok).toBe(true);
    expect(verifyBody([secretA], body, old)).toEqual({ ok: false, reason: 'No matching signature found' });
  });

  it('rejects a changed body, a changed id and a foreign secret', () => {
    const headers = signBody(secretA, body);
    expect(verifyBody([secretA], body.replace('true', 'false'), headers).ok).toBe(false);
    expect(verifyBody([secretA], body, { ...headers, 'webhook-id': 'msg_other' }).ok).toBe(false);
    expect(verifyBody([secretB], body, headers).ok).toBe(false);
  });

  it('rejects stale and future timestamps (5 minute tolerance)', () => {
    const stale = signBody(secretA, body, Date.now() - 6 * 60_000);
    expect(verifyBody([secretA], body, stale)).toEqual({ ok: false, reason: 'Message timestamp too old' });
    const future = signBody(secretA, body, Date.now() + 6 * 60_000);
    expect(verifyBody([secretA], body, future)).toEqual({ ok: false, reason: 'Message timestamp too new' });
    expect(verifyBody([secretA], body, signBody(secretA, body, Date.now() - 4 * 60_000)).ok).toBe(true);
  });

  it('names what is missing or malformed', () => {
    const headers = signBody(secretA, body);
    expect(verifyBody([secretA], body, { ...headers, 'webhook-signature': undefined })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/missing/),
    });
    expect(verifyBody([secretA], body, { ...headers, 'webhook-timestamp': '12abc' })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/unix seconds/),
    });
    expect(verifyBody([], body, headers)).toMatchObject({ ok: false, reason: expect.stringMatching(/WEBHOOK_SECRET/) });
  });
});
