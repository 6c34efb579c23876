import type http from 'node:http';
import { verifyBody } from '../src/lib/backend/signing';

/**
 * The backend side of our signed requests (dispatches and status polls), shared by the example
 * backend and the benchmark's backend.
 */
export function readBody(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (data += chunk));
    request.on('end', () => resolve(data));
    request.on('error', reject);
  });
}

/** Reads the body and checks its Standard Webhooks signature; undefined when it does not verify. */
export async function readSignedBody(request: http.IncomingMessage, secret: string): Promise<string | undefined> {
  const body = await readBody(request);
  const headers = {
    'webhook-id': String(request.headers['webhook-id'] ?? ''),
    'webhook-timestamp': String(request.headers['webhook-timestamp'] ?? ''),
    'webhook-signature': String(request.headers['webhook-signature'] ?? ''),
  };
  return verifyBody([secret], body, headers).ok ? body : undefined;
}
