// Measures publish -> handler latency of the SQLite transport across two processes: this process
// publishes N events of 1 KiB, one every INTERVAL ms, into a temporary broker file; a child
// process handles them and reports, per event, the time from just before `publish()` to the
// handler's start (both clocks are this machine's: performance.timeOrigin + performance.now()).
// Usage (after `npm run build`): node scripts/sqlite-latency.mjs [count=500] [intervalMs=10]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createEndpoint, defineEvent } from '@mailroom/core';
import { createSqliteTransport } from '@mailroom/sqlite';
import { z } from 'zod';

const Pinged = defineEvent('latency.Pinged', { version: 1, schema: z.object({ sentAt: z.number(), pad: z.string() }) });
const now = () => performance.timeOrigin + performance.now();

if (process.argv[2] === '--consumer') {
  const transport = createSqliteTransport({ path: process.argv[3] });
  const endpoint = createEndpoint({ name: 'latency-consumer', transport, concurrency: 8 });
  endpoint.on(Pinged, (message) => {
    process.stdout.write(`${now() - message.sentAt}\n`);
  });
  await endpoint.start();
  process.stdout.write('ready\n');
  process.on('SIGTERM', async () => {
    await endpoint.stop();
    await transport.close();
    process.exit(0);
  });
} else {
  const count = Number(process.argv[2] ?? 500);
  const intervalMs = Number(process.argv[3] ?? 10);
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-latency-'));
  const path = join(dir, 'broker.db');
  const transport = createSqliteTransport({ path });
  const publisher = createEndpoint({ name: 'latency-publisher', transport });
  await publisher.start();
  const child = spawn(process.execPath, [import.meta.filename, '--consumer', path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const latencies = [];
  let ready;
  const isReady = new Promise((resolve) => {
    ready = resolve;
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line === 'ready') ready();
    else latencies.push(Number(line));
  });
  await isReady;
  // The consumer's subscription is declared once it is ready; a short warm-up first.
  const pad = 'x'.repeat(1000);
  for (let i = 0; i < 20; i++) await publisher.publish(Pinged, { sentAt: now(), pad });
  while (latencies.length < 20) await new Promise((resolve) => setTimeout(resolve, 10));
  latencies.length = 0;
  for (let i = 0; i < count; i++) {
    await publisher.publish(Pinged, { sentAt: now(), pad });
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const deadline = Date.now() + 10_000;
  while (latencies.length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  child.kill('SIGTERM');
  await publisher.stop();
  await transport.close();
  rmSync(dir, { recursive: true, force: true });
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(2);
  console.log(
    `sqlite cross-process publish -> handler, ${latencies.length}/${count} events, one every ${intervalMs} ms: p50 ${at(0.5)} ms, p90 ${at(0.9)} ms, p99 ${at(0.99)} ms, max ${sorted.at(-1).toFixed(2)} ms`,
  );
  if (latencies.length < count) process.exitCode = 1;
}
