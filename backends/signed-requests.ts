import type http from 'node:http';
import { verifyBody } from '../src/lib/backend/signing';

/**
 * The backend side of our signed requests (dispatches, status polls and cancel events): the body
 * as text, kept whole because the signature is over its exact bytes.
 */
export function readBodyText(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (data += chunk));
    request.on('end', () => resolve(data));
    request.on('error', reject);
  });
}

/** The Standard Webhooks headers of a request, as strings ('' when absent). */
export function signatureHeaders(
  request: http.IncomingMessage,
): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  return {
    'webhook-id': String(request.headers['webhook-id'] ?? ''),
    'webhook-timestamp': String(request.headers['webhook-timestamp'] ?? ''),
    'webhook-signature': String(request.headers['webhook-signature'] ?? ''),
  };
}

/** Reads the body and checks its Standard Webhooks signature; undefined when it does not verify. */
export async function readSignedBody(request: http.IncomingMessage, secret: string): Promise<string | undefined> {
  const body = await readBodyText(request);
  return verifyBody([secret], body, signatureHeaders(request)).ok ? body : undefined;
}
