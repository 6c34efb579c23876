/**
 * The way into twilio-run for the rehearsal: @twilio-labs/serverless-api sends its HTTPS requests
 * through an `HttpsProxyAgent` when HTTP_PROXY is set (a CONNECT tunnel per connection). This
 * proxy, on 127.0.0.1, accepts CONNECT only for the Serverless API's hosts, ends the TLS itself
 * with a certificate from a throwaway local CA (the child trusts it through NODE_EXTRA_CA_CERTS)
 * and hands each request to the stand-in. Any other host is refused: nothing leaves the machine.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import tls from 'node:tls';
import { makeLocalCa, type LocalCa } from './local-ca';
import { ServerlessStandIn, STANDIN_HOSTS } from './standin';
import { readBody } from '../http-io';

export interface RehearsalProxy {
  /** `http://127.0.0.1:PORT`: the value for HTTP_PROXY. */
  url: string;
  /** Path of the CA certificate: the value for NODE_EXTRA_CA_CERTS. */
  caFile: string;
  standIn: ServerlessStandIn;
  /** CONNECT targets refused (hosts other than the Serverless API's). */
  refused: string[];
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** Serves the decrypted requests with the stand-in; never listens itself, sockets are handed to it. */
function standInServer(standIn: ServerlessStandIn): http.Server {
  return http.createServer((req, res) => {
    const host = (req.headers.host ?? '').split(':')[0].toLowerCase();
    readBody(req, MAX_BODY_BYTES)
      .then((body) =>
        standIn.handle({ method: req.method ?? 'GET', host, url: req.url ?? '/', headers: req.headers, body }),
      )
      .then((reply) => {
        const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
        const headers: Record<string, string> = { 'Content-Length': String(Buffer.byteLength(text)) };
        if (text) headers['Content-Type'] = 'application/json; charset=utf-8';
        res.writeHead(reply.status, headers);
        res.end(text);
      })
      .catch((err: unknown) => {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(String(err));
      });
  });
}

/** The proxy itself: CONNECT to the Serverless API's hosts ends TLS here and goes to `inner`; anything else is refused. */
function tunnelServer(
  inner: http.Server,
  secureContext: tls.SecureContext,
  refused: string[],
  sockets: Set<Socket>,
): http.Server {
  const outer = http.createServer((req, res) => {
    // Plain-HTTP proxying is never needed (twilio-run only speaks HTTPS): refuse it.
    refused.push(req.url ?? '');
    res.writeHead(403, { 'Content-Type': 'text/plain' });
    res.end('The deploy rehearsal proxy only tunnels to the Twilio Serverless API.\n');
  });
  outer.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  outer.on('connect', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    const [host, port = '443'] = (req.url ?? '').toLowerCase().split(':');
    if (!STANDIN_HOSTS.includes(host) || port !== '443') {
      refused.push(req.url ?? '');
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) socket.unshift(head);
    const secure = new tls.TLSSocket(socket, { isServer: true, secureContext });
    secure.on('error', () => socket.destroy());
    sockets.add(secure);
    secure.once('close', () => sockets.delete(secure));
    inner.emit('connection', secure);
  });
  return outer;
}

export async function startRehearsalProxy(accountSid: string, authToken = ''): Promise<RehearsalProxy> {
  const ca: LocalCa = makeLocalCa(STANDIN_HOSTS);
  const standIn = new ServerlessStandIn(accountSid, authToken);
  const refused: string[] = [];
  const sockets = new Set<Socket>();
  const outer = tunnelServer(
    standInServer(standIn),
    tls.createSecureContext({ key: ca.key, cert: ca.cert }),
    refused,
    sockets,
  );
  await new Promise<void>((resolve, reject) => {
    outer.once('error', reject);
    outer.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = outer.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      outer.close(() => {
        ca.remove();
        resolve();
      });
    });
    return closing;
  };
  return { url: `http://127.0.0.1:${port}`, caFile: ca.caFile, standIn, refused, close };
}
