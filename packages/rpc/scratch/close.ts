import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from '@connectrpc/connect';
import { createRpcServer, createRpcTransport } from '../src/index.js';
import { StockService } from '../test/gen/mailroom/rpc/testing/v1/stock_pb.js';

const t0 = performance.now();
const log = (m: string) => console.log(Math.round(performance.now() - t0), m);
const app = await createRpcServer({
  routes: (r) =>
    r.service(StockService, {
      getStock: async (q) => {
        if (q.sku === 'slow') await sleep(400);
        return { sku: q.sku, stock: 1 };
      },
      setStock: async (q) => q,
      reserve: async (q) => ({ sku: q.sku }),
    }),
});
await app.listen({ host: '127.0.0.1', port: 0 });
const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
const variant = process.argv[2];
const ts = (['2', '1.1'] as const)
  .filter((v) => !variant || v === variant)
  .map((httpVersion) => createRpcTransport({ name: `h${httpVersion}`, baseUrl: url, protocol: 'connect', httpVersion, retry: false }));
const idle = createRpcTransport({ name: 'idle', baseUrl: url, retry: false });
await createClient(StockService, idle).getStock({ sku: 'mug' });
for (const t of ts) await createClient(StockService, t).getStock({ sku: 'mug' });
log('warm');
const inFlight = ts.map((t) =>
  createClient(StockService, t)
    .getStock({ sku: 'slow' })
    .then(() => log('in flight done')),
);
await sleep(100);
log('closing');
await app.close();
log('closed');
await Promise.all(inFlight);
await createClient(StockService, idle)
  .getStock({ sku: 'mug' })
  .catch((e) => log('after: ' + e.code));
for (const t of [...ts, idle]) t.close();
