// Throughput of Mailroom on RabbitMQ in this process, as the bench scenario drives it (1 KiB
// persistent events, 128 publishes awaiting their confirm, prefetch 64, publisher and consumer in one
// process), with the CPU this process used per message (process.cpuUsage).
// Usage (after `npm run build`):
//   node scripts/rabbitmq-throughput.mjs [--count 20000] [--rounds 4] [--queue classic|quorum] [variant...]
// A variant is `mailroom` (the built @mailroom/rabbitmq), `raw` (the bench's raw amqplib baseline),
// `raw+headers` (the baseline sending the CloudEvents headers as well) or
// a directory holding another build of @mailroom/rabbitmq (e.g. a copy of packages/rabbitmq/dist made
// before a change). Rounds alternate the variants (A B A B ...) after one warm-up round each; the
// medians are printed at the end. For a profile: node --cpu-prof scripts/rabbitmq-throughput.mjs mailroom
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { BenchEvent, benchMessage } from '@mailroom/bench/dist/bench-message.js';
import { deleteRabbitMqNamespace } from '@mailroom/bench/dist/contenders/mailroom-rabbitmq.js';
import { rawAmqplib } from '@mailroom/bench/dist/contenders/raw-amqplib.js';
import { runWindowed } from '@mailroom/bench/dist/load-drivers.js';
import { createEndpoint } from '@mailroom/core';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { count: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '4' }, queue: { type: 'string', default: 'classic' } },
});
const count = Number(values.count);
const rounds = Number(values.rounds);
const queueType = values.queue;
const variants = positionals.length > 0 ? positionals : ['mailroom'];
const URL = process.env.MAILROOM_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
// With BROKER_PID set (e.g. `pgrep -f beam.smp`), the broker's CPU per message is printed as well.
const brokerPid = process.env.BROKER_PID;
const brokerCpuUs = () => {
  if (!brokerPid) return 0;
  const fields = readFileSync(`/proc/${brokerPid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // utime + stime, in clock ticks of 10 ms
};
const id = `tput-${process.pid}-${Date.now().toString(36)}`;

async function mailroomContender(name, index, modulePath) {
  const { createRabbitMqTransport } = await import(modulePath);
  const namespace = `${id}.${index}`;
  const endpointName = `${id}-${index}`;
  let transport;
  let endpoint;
  return {
    name,
    async start(deliver) {
      transport = await createRabbitMqTransport({ url: URL, namespace, queueType, maxUnconfirmed: 128 });
      endpoint = createEndpoint({ name: endpointName, transport, concurrency: 64 });
      endpoint.on(BenchEvent, (message) => deliver(message));
      await endpoint.start();
    },
    publish: (message) => endpoint.publish(BenchEvent, message),
    async stop() {
      await endpoint?.stop({ timeoutMs: 2000 });
      await transport?.close();
      await deleteRabbitMqNamespace(namespace, [endpointName]);
    },
  };
}

async function contender(variant, index) {
  if (variant === 'raw') return rawAmqplib({ name: 'raw', queueType, prefetch: 64, exchange: `${id}.raw.events`, queue: `${id}.raw` });
  if (variant === 'raw+headers') {
    return rawAmqplib({ name: variant, queueType, prefetch: 64, exchange: `${id}.rawh.events`, queue: `${id}.rawh`, envelopeHeaders: true });
  }
  if (variant === 'mailroom') return mailroomContender(variant, index, '@mailroom/rabbitmq');
  return mailroomContender(variant, index, pathToFileURL(resolve(variant, 'index.js')).href);
}

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
  const cpu = process.cpuUsage();
  const broker = brokerCpuUs();
  const started = performance.now();
  await runWindowed(count, 128, (i) => c.publish(benchMessage(run.base + i)));
  await delivered;
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const brokerUsed = brokerCpuUs() - broker;
  current = undefined;
  return { perSecond: count / (ms / 1000), cpuUsPerMessage: (used.user + used.system) / count, brokerUsPerMessage: brokerUsed / count };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const contenders = [];
for (const [index, variant] of variants.entries()) contenders.push(await contender(variant, index));
for (const c of contenders) await c.start(deliver);
const results = new Map(contenders.map((c) => [c.name, []]));
try {
  for (let round = 0; round <= rounds; round++) {
    for (const c of round % 2 ? contenders : [...contenders].reverse()) {
      const r = await throughput(c);
      console.log(
        `round ${round}${round === 0 ? ' (warm-up)' : ''} ${c.name}: ${Math.round(r.perSecond)} msg/s, ${r.cpuUsPerMessage.toFixed(1)} µs CPU/msg${brokerPid ? `, broker ${r.brokerUsPerMessage.toFixed(1)} µs/msg` : ''}`,
      );
      if (round > 0) results.get(c.name).push(r);
    }
  }
} finally {
  for (const c of contenders) await c.stop().catch((error) => console.error(`stopping ${c.name}: ${error}`));
}
for (const [name, rs] of results) {
  console.log(
    `median ${name} (${queueType}, ${count} msgs x ${rs.length}): ${Math.round(median(rs.map((r) => r.perSecond)))} msg/s, ${median(rs.map((r) => r.cpuUsPerMessage)).toFixed(1)} µs CPU/msg${brokerPid ? `, broker ${median(rs.map((r) => r.brokerUsPerMessage)).toFixed(1)} µs/msg` : ''}`,
  );
}
