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
// per message is printed as well, and with --expose-gc the heap left after each round (see
// throughput-rounds.mjs). For a profile: node --cpu-prof scripts/nats-throughput.mjs mailroom
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { mailroomEndpoint } from '@mailroom/bench/dist/contenders/mailroom-endpoint.js';
import { deleteStreams, NATS_SERVERS } from '@mailroom/bench/dist/contenders/nats-server.js';
import { rawNats } from '@mailroom/bench/dist/contenders/raw-nats.js';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { runThroughputRounds } from './throughput-rounds.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { count: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '4' } },
});
const variants = positionals.length > 0 ? positionals : ['mailroom'];
const id = `tput_${process.pid}_${Date.now().toString(36)}`;

async function mailroomContender(name, index, modulePath) {
  const { createNatsTransport } = await import(modulePath);
  const prefix = `${id}_${index}`;
  return mailroomEndpoint({
    name,
    endpoint: `${id}-${index}`.replace(/_/g, '-'),
    prefetch: 64,
    openTransport: () => createNatsTransport({ servers: NATS_SERVERS, prefix }),
    async cleanUp() {
      const connection = await connect({ servers: NATS_SERVERS });
      try {
        await deleteStreams(await jetstreamManager(connection), [prefix.toUpperCase(), `KV_${prefix.toUpperCase()}`]);
      } finally {
        await connection.close();
      }
    },
  });
}

async function contender(variant, index) {
  if (variant === 'raw' || variant === 'raw+guarantees') {
    const stream = `${id.toUpperCase()}_RAW${index}`;
    return rawNats({ name: variant, stream, subject: `${id}.raw${index}`, prefetch: 64, sameGuarantees: variant === 'raw+guarantees' });
  }
  if (variant === 'mailroom') return mailroomContender(variant, index, '@mailroom/nats');
  return mailroomContender(variant, index, pathToFileURL(resolve(variant, 'index.js')).href);
}

const contenders = [];
for (const [index, variant] of variants.entries()) contenders.push(await contender(variant, index));
await runThroughputRounds({
  contenders,
  count: Number(values.count),
  rounds: Number(values.rounds),
  brokerPid: process.env.BROKER_PID,
  brokerLabel: 'nats-server',
});
