/**
 * A throwaway certificate authority for the deploy rehearsal: one CA and one server certificate
 * for the Twilio hosts twilio-run talks to, made with the `openssl` command (no package in
 * node_modules makes X.509 certificates, and node:crypto only makes keys). Everything lives in a
 * private temporary folder that `remove()` deletes; the CA is trusted only by the processes given
 * `caFile` through NODE_EXTRA_CA_CERTS.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface LocalCa {
  /** PEM of the CA certificate: pass its path as NODE_EXTRA_CA_CERTS. */
  caFile: string;
  /** PEM key and certificate for the TLS server (SANs: every host given). */
  key: Buffer;
  cert: Buffer;
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new Error(
        'The deploy rehearsal needs the openssl command to make its local certificates, and it is not installed.',
        { cause: err },
      );
    }
    const stderr = (err as { stderr?: Buffer }).stderr?.toString('utf8').trim() ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr || String(err)}`, { cause: err });
  }
}

/** The server certificate's extensions: a leaf for TLS servers, named for every host. */
function writeServerExtensions(dir: string, hosts: string[]): void {
  fs.writeFileSync(
    path.join(dir, 'server.ext'),
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=${hosts.map((host) => `DNS:${host}`).join(',')}`,
      '',
    ].join('\n'),
  );
}

/** A self-signed CA valid for one day: ca.key and ca.pem. */
function makeCa(dir: string): void {
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '1',
      '-subj',
      '/CN=studio-async rehearsal CA (throwaway)',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
}

/** The server's key and certificate (server.key, server.pem) for `hosts`, signed by the CA for one day. */
function makeServerCertificate(dir: string, hosts: string[]): void {
  writeServerExtensions(dir, hosts);
  openssl(
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${hosts[0]}`],
    dir,
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.pem',
      '-days',
      '1',
      '-extfile',
      'server.ext',
    ],
    dir,
  );
}

/** Makes a CA valid for one day and a server certificate for `hosts`, signed by it. */
export function makeLocalCa(hosts: string[]): LocalCa {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-async-ca-'));
  try {
    makeCa(dir);
    makeServerCertificate(dir, hosts);
    // The CA's key is not needed once the server certificate is signed: nothing else can be issued.
    fs.rmSync(path.join(dir, 'ca.key'));
    for (const file of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, file), 0o600);
    return {
      caFile: path.join(dir, 'ca.pem'),
      key: fs.readFileSync(path.join(dir, 'server.key')),
      cert: fs.readFileSync(path.join(dir, 'server.pem')),
      remove: () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
