import { fork } from 'node:child_process';
import { once } from 'node:events';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { StockService } from '../test/gen/mailroom/rpc/testing/v1/stock_pb.js';
for (const mode of ['plain', 'polyglot']) {
  const child = fork(new URL('./server.ts', import.meta.url).pathname, [mode], { execArgv: ['--conditions=source', '--import', 'tsx'] });
  const [{ port }] = (await once(child, 'message')) as any;
  const c = createClient(StockService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }));
  for (let i = 0; i < 200; i++) await c.getStock({ sku: 'a' });
  const lat: number[] = [];
  for (let i = 0; i < 500; i++) { const s = performance.now(); await c.getStock({ sku: 'a' }); lat.push(performance.now() - s); }
  lat.sort((a, b) => a - b);
  console.log(mode, 'sequential p50', lat[250].toFixed(3), 'p90', lat[450].toFixed(3), 'p99', lat[495].toFixed(3));
  const n = 5000; const s = performance.now(); const cpu0 = process.cpuUsage();
  await Promise.all(Array.from({ length: 32 }, async () => { for (let i = 0; i < n / 32; i++) await c.getStock({ sku: 'a' }); }));
  const cpu = process.cpuUsage(cpu0);
  console.log(mode, '32 in flight', Math.round(n / ((performance.now() - s) / 1000)), 'req/s; client cpu/call', ((cpu.user + cpu.system) / n).toFixed(0), 'µs');
  child.disconnect(); await once(child, 'exit');
}
