import net from 'node:net';

/** Asks the OS for a port that is free right now (tiny race until it is used; fine for tests). */
export function getFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Fails clearly when a port is taken. twilio-run listens on all interfaces and, when its port is
 * busy, prompts on stdin for another one, which a background child cannot answer.
 */
export function assertPortFree(port: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`port ${port} (${what}) is already in use; stop what uses it or choose another port`)
          : err,
      );
    });
    server.listen(port, () => server.close(() => resolve()));
  });
}
