/**
 * src/lib/backend/signing.ts implements Standard Webhooks on node:crypto. The `standardwebhooks`
 * package is the reference: each must accept what the other signs, and refuse the same things.
 */
import { Webhook } from 'standardwebhooks';
import { signBody, verifyBody } from '../../src/lib/backend/signing';

const secret = 'whsec_' + Buffer.from('interop-secret-of-32-bytes-long!').toString('base64');
const other = 'whsec_' + Buffer.from('another-secret-of-32-bytes-long!').toString('base64');
const bodies = [
  '',
  '{}',
  JSON.stringify({ jobId: 'JB' + 'c'.repeat(32), status: 'COMPLETED', result: { text: 'ü😀 "quoted" \\ back' } }),
];

describe('Standard Webhooks interoperability with the standardwebhooks package', () => {
  it.each(bodies)('the package verifies what we sign (%j)', (body) => {
    const headers = signBody(secret, body);
    expect(() => new Webhook(secret).verify(body, { ...headers }, { jsonParse: false })).not.toThrow();
    expect(() => new Webhook(other).verify(body, { ...headers }, { jsonParse: false })).toThrow(
      'No matching signature found',
    );
  });

  it.each(bodies)('we verify what the package signs (%j)', (body) => {
    const now = new Date();
    const id = 'msg_interop';
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(id, now, body),
    };
    expect(verifyBody([secret], body, headers)).toEqual({ ok: true, webhookId: id });
    expect(verifyBody([other], body, headers)).toEqual({ ok: false, reason: 'No matching signature found' });
  });

  it('produces the same signature as the package for the same id, time and body', () => {
    const now = Date.UTC(2026, 0, 1, 12);
    const ours = signBody(secret, bodies[2]!, now, 'msg_fixed')['webhook-signature'];
    expect(ours).toBe(new Webhook(secret).sign('msg_fixed', new Date(now), bodies[2]!));
  });

  it('accepts a secret without the whsec_ prefix or padding like the package, and refuses a malformed one', () => {
    const raw = Buffer.from('sixteen-byte-key').toString('base64').replace(/=+$/, '');
    const headers = signBody(raw, 'x');
    expect(() => new Webhook(raw).verify('x', { ...headers }, { jsonParse: false })).not.toThrow();
    expect(verifyBody(['whsec_not*base64'], 'x', headers)).toMatchObject({ ok: false });
    expect(() => signBody('whsec_', 'x')).toThrow();
  });
});
