import { createServer } from 'node:net';

/** Binds `port` on `host` and releases it: resolves with the port bound (a free one for 0), rejects with the bind error (EADDRINUSE...). */
export function probePort(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : port;
      server.close(() => resolve(bound));
    });
  });
}
