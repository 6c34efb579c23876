import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** Standard Webhooks headers (https://www.standardwebhooks.com): id, unix seconds, v1 signatures. */
export interface SignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

export type Verification = { ok: true; webhookId: string } | { ok: false; reason: string };

/** Signs a body with the newest secret. */
export function signBody(secret: string, body: string, now = Date.now(), id = `msg_${randomUUID()}`): SignatureHeaders {
  const signature = new Webhook(secret).sign(id, new Date(now), body);
  return { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(now / 1000)), 'webhook-signature': signature };
}

/**
 * Verifies a body against every configured secret (two during a rotation); the library checks
 * the 5-minute timestamp tolerance and accepts any of several space-separated signatures.
 */
export function verifyBody(
  secrets: readonly string[],
  body: string,
  headers: Partial<Record<keyof SignatureHeaders, string>>,
): Verification {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signature = headers['webhook-signature'];
  if (!id || !timestamp || !signature) return { ok: false, reason: 'missing webhook-id, webhook-timestamp or webhook-signature header' };
  if (id.length > 256) return { ok: false, reason: 'webhook-id is too long' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'webhook-timestamp must be unix seconds' };
  if (secrets.length === 0) return { ok: false, reason: 'no WEBHOOK_SECRET is configured' };
  let reason = 'no matching signature';
  for (const secret of secrets) {
    try {
      new Webhook(secret).verify(body, { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature }, { jsonParse: false });
      return { ok: true, webhookId: id };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // A stale or future timestamp fails the same way for every secret: say so.
      if (/timestamp/i.test(message)) return { ok: false, reason: message };
      reason = message;
    }
  }
  return { ok: false, reason };
}
