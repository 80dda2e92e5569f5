import { createClient } from '@connectrpc/connect';
import { createRpcTransport } from '../src/index.js';
import { StockService } from '../test/gen/mailroom/rpc/testing/v1/stock_pb.js';
import { startStockServer } from '../test/support/fault-stock-server.js';

const server = await startStockServer();
for (const protocol of ['grpc', 'connect'] as const)
  for (const httpVersion of ['2', '1.1'] as const) {
    if (protocol === 'grpc' && httpVersion === '1.1') continue;
    const t = createRpcTransport({ name: 's', baseUrl: server.url, retry: false, protocol, httpVersion });
    const c = createClient(StockService, t);
    await c.getStock({ sku: 'mug' });
    server.mode = 'drop';
    try {
      await c.getStock({ sku: 'mug' });
    } catch (e: any) {
      console.log(protocol, httpVersion, e.code, e.rpcCode, e.message);
      let x = e.cause;
      while (x) {
        console.log('  cause', x.name, x.code, x.message);
        x = x.cause;
      }
    }
    server.mode = 'ok';
    t.close();
  }
await server.down();
