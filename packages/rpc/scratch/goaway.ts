import type { AddressInfo } from 'node:net';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { createRpcServer, createRpcTransport } from '../src/index.js';
import { StockService } from '../test/gen/mailroom/rpc/testing/v1/stock_pb.js';

process.on('uncaughtException', (e) => {
  console.log('UNCAUGHT', e.message);
  process.exit(1);
});
const impl = { getStock: async (q: any) => ({ sku: q.sku, stock: 1 }), setStock: async (q: any) => q, reserve: async (q: any) => ({ sku: q.sku }) };
let port = 0;
for (let i = 0; i < 20; i++) {
  const app = await createRpcServer({ routes: (r) => r.service(StockService, impl) });
  await app.listen({ host: '127.0.0.1', port });
  port = (app.server.address() as AddressInfo).port;
  const sessions = new Http2SessionManager(`http://127.0.0.1:${port}`);
  const t =
    process.argv[2] === 'raw'
      ? createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}`, sessionManager: sessions })
      : createRpcTransport({ name: 'x', baseUrl: `http://127.0.0.1:${port}`, retry: false, breaker: false });
  const c = createClient(StockService, t);
  await c.getStock({ sku: 'a' });
  let done = false;
  const firing = (async () => {
    while (!done) {
      await c.getStock({ sku: 'a' }).catch((e) => e.code);
      await new Promise((r) => setImmediate(r));
    }
  })();
  await new Promise((r) => setTimeout(r, 5));
  await app.close();
  done = true;
  await firing;
  await new Promise((r) => setTimeout(r, 20));
  sessions.abort();
  (t as any).close?.();
}
console.log('no crash');
