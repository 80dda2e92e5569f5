import { fork } from 'node:child_process';
import { once } from 'node:events';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { StockService } from '../test/gen/mailroom/rpc/testing/v1/stock_pb.js';

for (const mode of ['plain', 'polyglot', 'plain', 'polyglot']) {
  const child = fork(new URL('./server.ts', import.meta.url).pathname, [mode], { execArgv: ['--conditions=source', '--import', 'tsx'] });
  const [{ port }] = (await once(child, 'message')) as any;
  const c = createClient(StockService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }));
  const run = async (n: number) =>
    Promise.all(
      Array.from({ length: 32 }, async () => {
        for (let i = 0; i < n / 32; i++) await c.getStock({ sku: 'a' });
      }),
    );
  await run(3000);
  child.send('cpu');
  const [a] = (await once(child, 'message')) as any;
  const s = performance.now();
  const n = 10000;
  await run(n);
  const wall = performance.now() - s;
  child.send('cpu');
  const [b] = (await once(child, 'message')) as any;
  const us = (b.cpu.user + b.cpu.system - a.cpu.user - a.cpu.system) / n;
  console.log(mode, 'server cpu/req', us.toFixed(1), 'µs', Math.round(n / (wall / 1000)), 'req/s');
  child.disconnect();
  await once(child, 'exit');
}
