// Throughput of Mailroom on NATS JetStream in this process, as the bench `nats` scenario drives it
// (1 KiB events into a file-storage interest stream, 128 publishes awaiting their PubAck, 64
// handlers, publisher and consumer in one process), with the CPU this process used per message
// (process.cpuUsage).
// Usage (after `npm run build`):
//   node scripts/nats-throughput.mjs [--count 20000] [--rounds 4] [variant...]
// A variant is `mailroom` (the built @mailroom/nats), `raw` (the bench's raw @nats-io baseline),
// `raw+guarantees` (the baseline also sending a Nats-Msg-Id per message and the CloudEvents
// headers) or a directory holding another build of @mailroom/nats (e.g. a copy of packages/nats/dist
// made before a change). Rounds alternate the variants (A B A B ...) after one warm-up round each;
// the medians are printed at the end. With BROKER_PID set (`pgrep nats-server`), nats-server's CPU
// per message is printed as well, and with --expose-gc the heap left after each round (collected
// garbage excluded: what grows round after round is kept per message). Time in garbage collection
// per message comes from the `gc` performance entries. For a profile: node --cpu-prof
// scripts/nats-throughput.mjs mailroom
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { BenchEvent, benchMessage } from '@mailroom/bench/dist/bench-message.js';
import { deleteStreams, NATS_SERVERS } from '@mailroom/bench/dist/contenders/nats-server.js';
import { rawNats } from '@mailroom/bench/dist/contenders/raw-nats.js';
import { runWindowed } from '@mailroom/bench/dist/load-drivers.js';
import { createEndpoint } from '@mailroom/core';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { count: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '4' } },
});
const count = Number(values.count);
const rounds = Number(values.rounds);
const variants = positionals.length > 0 ? positionals : ['mailroom'];
const brokerPid = process.env.BROKER_PID;
const brokerCpuUs = () => {
  if (!brokerPid) return 0;
  const fields = readFileSync(`/proc/${brokerPid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // utime + stime, in clock ticks of 10 ms
};
const id = `tput_${process.pid}_${Date.now().toString(36)}`;

async function mailroomContender(name, index, modulePath) {
  const { createNatsTransport } = await import(modulePath);
  const prefix = `${id}_${index}`;
  const endpointName = `${id}-${index}`.replace(/_/g, '-');
  let transport;
  let endpoint;
  return {
    name,
    async start(deliver) {
      transport = await createNatsTransport({ servers: NATS_SERVERS, prefix });
      endpoint = createEndpoint({ name: endpointName, transport, concurrency: 64 });
      endpoint.on(BenchEvent, (message) => deliver(message));
      await endpoint.start();
    },
    publish: (message) => endpoint.publish(BenchEvent, message),
    async stop() {
      await endpoint?.stop({ timeoutMs: 2000 });
      await transport?.close();
      const connection = await connect({ servers: NATS_SERVERS });
      try {
        await deleteStreams(await jetstreamManager(connection), [prefix.toUpperCase(), `KV_${prefix.toUpperCase()}`]);
      } finally {
        await connection.close();
      }
    },
  };
}

async function contender(variant, index) {
  if (variant === 'raw' || variant === 'raw+guarantees') {
    const stream = `${id.toUpperCase()}_RAW${index}`;
    return rawNats({ name: variant, stream, subject: `${id}.raw${index}`, prefetch: 64, sameGuarantees: variant === 'raw+guarantees' });
  }
  if (variant === 'mailroom') return mailroomContender(variant, index, '@mailroom/nats');
  return mailroomContender(variant, index, pathToFileURL(resolve(variant, 'index.js')).href);
}

let gcMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
}).observe({ entryTypes: ['gc'] });

let current;
function deliver(message) {
  const run = current;
  if (!run) return;
  const i = message.seq - run.base;
  if (i < 0 || i >= run.count || run.seen[i]) return;
  run.seen[i] = 1;
  if (++run.unique === run.count) run.done();
}

let nextSeq = 0;
async function throughput(c) {
  const run = { base: nextSeq, count, seen: new Uint8Array(count), unique: 0, done: () => undefined };
  nextSeq += count;
  const delivered = new Promise((r) => {
    run.done = r;
  });
  current = run;
  globalThis.gc?.(); // with --expose-gc: no variant pays for the previous one's garbage
  const gcBefore = gcMs;
  const cpu = process.cpuUsage();
  const broker = brokerCpuUs();
  const started = performance.now();
  await runWindowed(count, 128, (i) => c.publish(benchMessage(run.base + i)));
  await delivered;
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const brokerUsed = brokerCpuUs() - broker;
  current = undefined;
  await new Promise((r) => setImmediate(r)); // the gc entries of the round are reported
  const gcUsPerMessage = ((gcMs - gcBefore) * 1000) / count;
  globalThis.gc?.();
  const heapMb = process.memoryUsage().heapUsed / 1e6;
  return { perSecond: count / (ms / 1000), cpuUsPerMessage: (used.user + used.system) / count, brokerUsPerMessage: brokerUsed / count, gcUsPerMessage, heapMb };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

const contenders = [];
for (const [index, variant] of variants.entries()) contenders.push(await contender(variant, index));
for (const c of contenders) await c.start(deliver);
const results = new Map(contenders.map((c) => [c.name, []]));
try {
  for (let round = 0; round <= rounds; round++) {
    for (const c of round % 2 ? contenders : [...contenders].reverse()) {
      const r = await throughput(c);
      console.log(
        `round ${round}${round === 0 ? ' (warm-up)' : ''} ${c.name}: ${Math.round(r.perSecond)} msg/s, ${r.cpuUsPerMessage.toFixed(1)} µs CPU/msg (GC ${r.gcUsPerMessage.toFixed(1)})${brokerPid ? `, nats-server ${r.brokerUsPerMessage.toFixed(1)} µs/msg` : ''}${globalThis.gc ? `, heap after ${r.heapMb.toFixed(1)} MB` : ''} (load ${load()})`,
      );
      if (round > 0) results.get(c.name).push(r);
    }
  }
} finally {
  for (const c of contenders) await c.stop().catch((error) => console.error(`stopping ${c.name}: ${error}`));
}
for (const [name, rs] of results) {
  console.log(
    `median ${name} (${count} msgs x ${rs.length}): ${Math.round(median(rs.map((r) => r.perSecond)))} msg/s, ${median(rs.map((r) => r.cpuUsPerMessage)).toFixed(1)} µs CPU/msg (GC ${median(rs.map((r) => r.gcUsPerMessage)).toFixed(1)})${brokerPid ? `, nats-server ${median(rs.map((r) => r.brokerUsPerMessage)).toFixed(1)} µs/msg` : ''}`,
  );
}
