/** Reading requests and writing replies on node's http module. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { paramBagFromSearch, type ParamBag } from './openapi';

/** Twilio Functions cap requests at 1 MB; nothing legitimate sent to the emulator is bigger. */
const MAX_BODY_BYTES = 1024 * 1024;

export class BodyTooLargeError extends Error {}

export function readBody(req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new BodyTooLargeError(`request body over ${maxBytes} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The request's media type, lower case and without parameters (`application/json`); '' when it has none. */
export function contentTypeOf(req: { headers: Record<string, string | string[] | undefined> }): string {
  return String(req.headers['content-type'] ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();
}

export function parseForm(body: Buffer): ParamBag {
  return paramBagFromSearch(body.toString('utf8'));
}

/** What a stage or handler answers. `drop` closes the socket without a reply (for fault injection). */
export type Reply =
  { kind: 'json'; status: number; body?: unknown; headers?: Record<string, string> } | { kind: 'drop' };

export function json(status: number, body?: unknown, headers?: Record<string, string>): Reply {
  return { kind: 'json', status, body, headers };
}

export function send(res: ServerResponse, reply: Reply): void {
  if (reply.kind === 'drop') {
    res.socket?.destroy();
    return;
  }
  const headers: Record<string, string> = { ...(reply.headers ?? {}) };
  if (reply.body === undefined) {
    res.writeHead(reply.status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(reply.body);
  headers['Content-Type'] = 'application/json; charset=utf-8';
  headers['Content-Length'] = String(Buffer.byteLength(text));
  res.writeHead(reply.status, headers);
  res.end(text);
}
