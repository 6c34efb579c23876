import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { LIMITS } from '../contracts';

/** Standard Webhooks headers (https://www.standardwebhooks.com): id, unix seconds, v1 signatures. */
export interface SignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

export type Verification = { ok: true; webhookId: string } | { ok: false; reason: string };

/*
 * The Standard Webhooks scheme on node:crypto: the signature is `v1,` + base64 of
 * HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>"), the key being the base64 part of
 * a `whsec_` secret. The `standardwebhooks` package computes the same with a pure-JS SHA-256
 * that made up a third of every bundle; tests/unit/signing-interop.test.ts checks the two agree
 * both ways. Reasons match the package's messages.
 */

const SECRET_PREFIX = 'whsec_';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const keys = new Map<string, Buffer>();

/** The HMAC key of a `whsec_<base64>` secret (decoded once per secret). */
export function keyOf(secret: string): Buffer {
  let key = keys.get(secret);
  if (key) return key;
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  if (!BASE64.test(encoded)) throw new Error('Secret is not valid base64');
  key = Buffer.from(encoded, 'base64');
  if (key.length === 0) throw new Error("Secret can't be empty.");
  if (keys.size > 16) keys.clear();
  keys.set(secret, key);
  return key;
}

function signature(key: Buffer, id: string, timestampSeconds: number, body: string): string {
  return createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
}

/** Signs a body with the newest secret. */
export function signBody(secret: string, body: string, now = Date.now(), id = `msg_${randomUUID()}`): SignatureHeaders {
  const timestamp = Math.floor(now / 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': `v1,${signature(keyOf(secret), id, timestamp, body)}`,
  };
}

/** True when one of the space-separated `v1,<base64>` signatures is the expected one (constant time). */
function hasSignature(header: string, expected: string): boolean {
  const wanted = Buffer.from(expected);
  let found = false;
  for (const versioned of header.split(' ')) {
    const [version, value] = versioned.split(',');
    if (version !== 'v1' || value === undefined) continue;
    const given = Buffer.from(value);
    if (given.length === wanted.length && timingSafeEqual(given, wanted)) found = true;
  }
  return found;
}

/**
 * Verifies a body against every configured secret (two during a rotation): the timestamp must
 * be within 5 minutes of now, and any of several space-separated signatures may match.
 */
export function verifyBody(
  secrets: readonly string[],
  body: string,
  headers: Partial<Record<keyof SignatureHeaders, string>>,
): Verification {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (!id || !timestamp || !signatures)
    return { ok: false, reason: 'missing webhook-id, webhook-timestamp or webhook-signature header' };
  if (id.length > 256) return { ok: false, reason: 'webhook-id is too long' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'webhook-timestamp must be unix seconds' };
  if (secrets.length === 0) return { ok: false, reason: 'no WEBHOOK_SECRET is configured' };
  const seconds = Number(timestamp);
  const nowSeconds = Math.floor(Date.now() / 1000);
  // A stale or future timestamp fails the same way for every secret: say so.
  if (nowSeconds - seconds > LIMITS.signatureToleranceSeconds)
    return { ok: false, reason: 'Message timestamp too old' };
  if (seconds > nowSeconds + LIMITS.signatureToleranceSeconds)
    return { ok: false, reason: 'Message timestamp too new' };
  let reason = '';
  for (const secret of secrets) {
    try {
      if (hasSignature(signatures, signature(keyOf(secret), id, seconds, body))) return { ok: true, webhookId: id };
      reason = 'No matching signature found';
    } catch (error) {
      reason = error instanceof Error ? error.message : String(error);
    }
  }
  return { ok: false, reason };
}
