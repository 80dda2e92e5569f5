// Publish -> handler latency of the bench's messaging contenders, paced open loop at a fixed rate
// (as the bench's latency runs: bench/src/load-drivers.ts runPaced, messaging-runs.ts), with the
// contenders interleaved round by round (A B C, C B A, ...) in one process; or, with --mode cpu,
// the CPU this process uses per message in closed-loop runs (128 publishes in flight, prefetch 64),
// measured with process.cpuUsage().
// Usage (after `npm run build`):
//   node scripts/latency-probe.mjs [--mode latency|cpu] [--count 3000] [--rate 1000] [--rounds 5] [variant...]
// Variants (default: raw mailroom moleculer):
//   raw        the bench's raw amqplib baseline (bench/dist/contenders/raw-amqplib.js), classic queue
//   mailroom   Mailroom on RabbitMQ (bench/dist/contenders/mailroom-rabbitmq.js), classic queue
//   moleculer  Moleculer + @moleculer/channels on the same RabbitMQ (bench/dist/contenders/peer-moleculer.js)
//   memory     Mailroom on the in-memory transport (bench/dist/contenders/mailroom-endpoint.js)
// `mailroom@DIR` and `memory@DIR` take the contender (and through it @mailroom/core and
// @mailroom/rabbitmq) from another checkout DIR holding a build (bench/dist, packages/*/dist and a
// node_modules whose @mailroom links point into DIR), e.g. a copy of the tree made before a change,
// to compare builds interleaved in one process. One warm-up round per variant is not counted.
// Prints p50/p99 (ms) or µs CPU/msg per round with the load average, then the medians over rounds.
// For a profile: node --cpu-prof scripts/latency-probe.mjs --mode cpu memory
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { MessagingBench } from '@mailroom/bench/dist/messaging-runs.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    mode: { type: 'string', default: 'latency' },
    count: { type: 'string', default: '3000' },
    rate: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '5' },
  },
});
const mode = values.mode;
if (mode !== 'latency' && mode !== 'cpu') throw new Error(`--mode must be latency or cpu, got ${mode}`);
const count = Number(values.count);
const rate = Number(values.rate);
const rounds = Number(values.rounds);
const variants = positionals.length > 0 ? positionals : ['raw', 'mailroom', 'moleculer'];
const PREFETCH = 64;
const WINDOW = 128;
const id = `probe-${process.pid}-${Date.now().toString(36)}`;

/** Imports `path` (relative to a checkout root) from `root`, or from this checkout's packages. */
const fromRoot = (root, path, pkg) => (root ? import(pathToFileURL(resolve(root, path)).href) : import(pkg));

async function contender(variant, index) {
  const [kind, root] = variant.split('@');
  const name = variant;
  if (kind === 'raw') {
    const { rawAmqplib } = await fromRoot(root, 'bench/dist/contenders/raw-amqplib.js', '@mailroom/bench/dist/contenders/raw-amqplib.js');
    return rawAmqplib({ name, queueType: 'classic', prefetch: PREFETCH, exchange: `${id}.${index}.raw.events`, queue: `${id}.${index}.raw` });
  }
  if (kind === 'mailroom') {
    const { mailroomRabbitMq } = await fromRoot(root, 'bench/dist/contenders/mailroom-rabbitmq.js', '@mailroom/bench/dist/contenders/mailroom-rabbitmq.js');
    return mailroomRabbitMq({ name, queueType: 'classic', prefetch: PREFETCH, window: WINDOW, namespace: `${id}.${index}.mr`, endpoint: `${id}-${index}-mr` });
  }
  if (kind === 'moleculer') {
    const { moleculerPeer } = await fromRoot(root, 'bench/dist/contenders/peer-moleculer.js', '@mailroom/bench/dist/contenders/peer-moleculer.js');
    return moleculerPeer({
      name,
      channel: `${id}.${index}.moleculer.sent`,
      group: 'bench',
      deadLetterQueue: `${id}.${index}.moleculer.dlq`,
      prefetch: PREFETCH,
    });
  }
  if (kind === 'memory') {
    const { mailroomEndpoint } = await fromRoot(root, 'bench/dist/contenders/mailroom-endpoint.js', '@mailroom/bench/dist/contenders/mailroom-endpoint.js');
    const { createMemoryTransport } = await fromRoot(root, 'packages/core/dist/index.js', '@mailroom/core');
    return mailroomEndpoint({ name, endpoint: `probe-memory-${index}`, prefetch: PREFETCH, openTransport: () => createMemoryTransport() });
  }
  throw new Error(`unknown variant ${variant} (raw, mailroom, moleculer, memory, mailroom@DIR, memory@DIR)`);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const load = () => loadavg()[0].toFixed(2);

async function measure(bench) {
  if (mode === 'latency') return bench.latency(count, rate, 120_000);
  const cpu = process.cpuUsage();
  await bench.throughput(count, WINDOW, 120_000);
  const used = process.cpuUsage(cpu);
  return { cpuUsPerMessage: (used.user + used.system) / count };
}

const format = (r) =>
  mode === 'latency'
    ? `p50 ${r.p50Ms.toFixed(3)} ms, p99 ${r.p99Ms.toFixed(3)} ms (${Math.round(r.achievedRate)}/s)`
    : `${r.cpuUsPerMessage.toFixed(1)} µs CPU/msg`;

const benches = [];
try {
  for (const [index, variant] of variants.entries()) {
    const bench = new MessagingBench(await contender(variant, index));
    benches.push(bench);
    await bench.start();
  }
  const results = new Map(benches.map((b) => [b.contender.name, []]));
  for (let round = 0; round <= rounds; round++) {
    for (const bench of round % 2 ? benches : [...benches].reverse()) {
      const r = await measure(bench);
      console.log(`round ${round}${round === 0 ? ' (warm-up)' : ''} ${bench.contender.name}: ${format(r)}, load ${load()}`);
      if (round > 0) results.get(bench.contender.name).push(r);
    }
  }
  for (const [name, rs] of results) {
    const summary =
      mode === 'latency'
        ? `p50 ${median(rs.map((r) => r.p50Ms)).toFixed(3)} ms, p99 ${median(rs.map((r) => r.p99Ms)).toFixed(3)} ms`
        : `${median(rs.map((r) => r.cpuUsPerMessage)).toFixed(1)} µs CPU/msg`;
    console.log(`median ${name} (${mode}, ${count} msgs${mode === 'latency' ? ` at ${rate}/s` : ''} x ${rs.length}): ${summary}`);
  }
} finally {
  for (const bench of benches) await bench.contender.stop().catch((error) => console.error(`stopping ${bench.contender.name}: ${error}`));
}
