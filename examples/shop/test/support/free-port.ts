import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';

/** A TCP port free on loopback right now (the OS picks it; a process of ours binds it next). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
