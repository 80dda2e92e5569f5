import { createNatsTransport } from '@mailroom/nats';
import { createEndpoint } from '@mailroom/core';
import { BenchEvent, benchMessage } from '@mailroom/bench/dist/bench-message.js';
import { runWindowed } from '@mailroom/bench/dist/load-drivers.js';
const modulePath = process.argv[2];
const { createNatsTransport: create } = modulePath ? await import(modulePath) : { createNatsTransport };
const prefix = `leak_${process.pid}`;
const transport = await create({ servers: '127.0.0.1:4222', prefix, logger: { child() { return this; }, debug() {}, info() {}, warn() {}, error() {}, trace() {}, fatal() {} } });
const endpoint = createEndpoint({ name: `leak-${process.pid}`, transport, concurrency: 64 });
let n = 0; endpoint.on(BenchEvent, () => { n++; });
await endpoint.start();
for (let r = 0; r < 4; r++) {
  await runWindowed(10000, 128, (i) => endpoint.publish(BenchEvent, benchMessage(r * 10000 + i)));
  while (n < (r + 1) * 10000) await new Promise((res) => setTimeout(res, 20));
  gc(); gc();
  console.log(`after ${(r + 1) * 10000}: heapUsed ${(process.memoryUsage().heapUsed / 1e6).toFixed(1)} MB`);
}
await endpoint.stop({ timeoutMs: 2000 });
await transport.close();
const { connect } = await import('@nats-io/transport-node');
const { jetstreamManager } = await import('@nats-io/jetstream');
const { deleteStreams } = await import('@mailroom/bench/dist/contenders/nats-server.js');
const c = await connect({ servers: '127.0.0.1:4222' });
await deleteStreams(await jetstreamManager(c), [prefix.toUpperCase(), `KV_${prefix.toUpperCase()}`]);
await c.close();
