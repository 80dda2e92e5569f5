import { fastifyConnectPlugin } from '@connectrpc/connect-fastify';
import { createServer } from '@httptoolkit/httpolyglot';
import Fastify from 'fastify';
import { StockService } from '../test/gen/mailroom/rpc/testing/v1/stock_pb.js';

const mode = process.argv[2];
const app =
  mode === 'polyglot'
    ? Fastify({
        serverFactory: (handler) => {
          const s = createServer(handler) as any;
          s.on('connection', (x: any) => x.setNoDelay(true));
          return s;
        },
      })
    : Fastify({ http2: true });
await app.register(fastifyConnectPlugin, {
  routes: (router) =>
    router.service(StockService, {
      async getStock(req) {
        return { sku: req.sku, stock: 7 };
      },
      async setStock(req) {
        return req;
      },
      async reserve(req) {
        return { sku: req.sku };
      },
    }),
});
await app.listen({ port: 0, host: '127.0.0.1' });
process.send!({ port: (app.server.address() as any).port });
process.on('message', (m: any) => {
  if (m === 'cpu') process.send!({ cpu: process.cpuUsage() });
});
process.on('disconnect', () => process.exit(0));
