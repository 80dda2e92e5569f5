import { createClient } from '@connectrpc/connect';
import { fastifyConnectPlugin } from '@connectrpc/connect-fastify';
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import * as grpc from '@grpc/grpc-js';
import * as loader from '@grpc/proto-loader';
import { createServer } from '@httptoolkit/httpolyglot';
import { currentCorrelation, mailroomFastify } from '@mailroom/http';
import Fastify from 'fastify';
import { StockService } from '../test/gen/mailroom/rpc/testing/v1/stock_pb.js';

const polyglot = process.argv[2] !== 'plain';
const app = polyglot ? Fastify({ serverFactory: (handler) => createServer(handler) as any }) : Fastify({ http2: true });
await app.register(mailroomFastify);
await app.register(fastifyConnectPlugin, {
  routes: (router) =>
    router.service(StockService, {
      async getStock(req, ctx) {
        return { sku: req.sku, stock: 7, correlationId: currentCorrelation()?.correlationId ?? '', traceparent: currentCorrelation()?.traceparent ?? '' };
      },
      async setStock(req) {
        return { sku: req.sku, stock: req.stock };
      },
      async reserve(req) {
        return { sku: req.sku, remaining: 1 };
      },
    }),
});
if (process.env.NODELAY) {
  const srv: any = app.server;
  const orig = srv.listeners('connection');
  srv.prependListener('connection', (sock: any) => sock.setNoDelay(true));
}
await app.listen({ port: 0, host: '127.0.0.1' });
const port = (app.server.address() as any).port;
const baseUrl = `http://127.0.0.1:${port}`;
for (const [name, t] of [
  ['grpc h2', createGrpcTransport({ baseUrl })],
  ['connect h2', createConnectTransport({ baseUrl, httpVersion: '2' })],
  ['connect h1', createConnectTransport({ baseUrl, httpVersion: '1.1' })],
  ['grpc-web h2', createGrpcWebTransport({ baseUrl, httpVersion: '2' })],
] as const) {
  try {
    const c = createClient(StockService, t);
    const r = await c.getStock({ sku: 'a' }, { headers: { 'x-correlation-id': 'corr-1' } });
    console.log(name, r.stock, r.correlationId);
    const n = Number(process.env.N ?? 5000);
    const s = performance.now();
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        for (let i = 0; i < n / 32; i++) await c.getStock({ sku: 'a' });
      }),
    );
    console.log(name, Math.round(n / ((performance.now() - s) / 1000)), 'req/s');
  } catch (e) {
    console.log(name, 'failed', e);
  }
}
const def = loader.loadSync('mailroom/rpc/testing/v1/stock.proto', { includeDirs: [new URL('../test/proto', import.meta.url).pathname] });
const pkg = grpc.loadPackageDefinition(def) as any;
const gc = new pkg.mailroom.rpc.testing.v1.StockService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
const md = new grpc.Metadata();
md.set('x-correlation-id', 'grpcjs-1');
const r = await new Promise((res, rej) => gc.getStock({ sku: 'b' }, md, (e: any, v: any) => (e ? rej(e) : res(v))));
console.log('grpc-js', r);
{
  const n = Number(process.env.N ?? 5000);
  const s = performance.now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      for (let i = 0; i < n / 32; i++) await new Promise((res, rej) => gc.getStock({ sku: 'b' }, (e: any, v: any) => (e ? rej(e) : res(v))));
    }),
  );
  console.log('grpc-js', Math.round(n / ((performance.now() - s) / 1000)), 'req/s');
}
gc.close();
const t0 = performance.now();
setTimeout(() => process.exit(0), 100);
console.log('closed in', Math.round(performance.now() - t0), 'ms');
