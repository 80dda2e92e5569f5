// Throughput of Mailroom on RabbitMQ in this process, as the bench scenario drives it (1 KiB
// persistent events, 128 publishes awaiting their confirm, prefetch 64, publisher and consumer in one
// process), with the CPU this process used per message (process.cpuUsage).
// Usage (after `npm run build`):
//   node scripts/rabbitmq-throughput.mjs [--count 20000] [--rounds 4] [--queue classic|quorum] [variant...]
// A variant is `mailroom` (the built @mailroom/rabbitmq, default options), `mailroom-full` (the same
// with envelopeHeaders: 'full', every header its own table entry), `raw` (the bench's raw amqplib baseline),
// `raw+headers` (the baseline sending the CloudEvents headers as well) or
// a directory holding another build of @mailroom/rabbitmq (e.g. a copy of packages/rabbitmq/dist made
// before a change). Rounds alternate the variants (A B A B ...) after one warm-up round each; the
// medians are printed at the end. For a profile: node --cpu-prof scripts/rabbitmq-throughput.mjs mailroom
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { mailroomEndpoint } from '@mailroom/bench/dist/contenders/mailroom-endpoint.js';
import { deleteRabbitMqNamespace } from '@mailroom/bench/dist/contenders/mailroom-rabbitmq.js';
import { rawAmqplib } from '@mailroom/bench/dist/contenders/raw-amqplib.js';
import { runThroughputRounds } from './throughput-rounds.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { count: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '4' }, queue: { type: 'string', default: 'classic' } },
});
const queueType = values.queue;
const variants = positionals.length > 0 ? positionals : ['mailroom'];
const URL = process.env.MAILROOM_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const id = `tput-${process.pid}-${Date.now().toString(36)}`;

async function mailroomContender(name, index, modulePath, extra = {}) {
  const { createRabbitMqTransport } = await import(modulePath);
  const namespace = `${id}.${index}`;
  const endpoint = `${id}-${index}`;
  return mailroomEndpoint({
    name,
    endpoint,
    prefetch: 64,
    openTransport: () => createRabbitMqTransport({ url: URL, namespace, queueType, maxUnconfirmed: 128, ...extra }),
    cleanUp: () => deleteRabbitMqNamespace(namespace, [endpoint]),
  });
}

async function contender(variant, index) {
  if (variant === 'raw') return rawAmqplib({ name: 'raw', queueType, prefetch: 64, exchange: `${id}.raw.events`, queue: `${id}.raw` });
  if (variant === 'raw+headers') {
    return rawAmqplib({ name: variant, queueType, prefetch: 64, exchange: `${id}.rawh.events`, queue: `${id}.rawh`, envelopeHeaders: true });
  }
  if (variant === 'mailroom') return mailroomContender(variant, index, '@mailroom/rabbitmq');
  if (variant === 'mailroom-full') return mailroomContender(variant, index, '@mailroom/rabbitmq', { envelopeHeaders: 'full' });
  return mailroomContender(variant, index, pathToFileURL(resolve(variant, 'index.js')).href);
}

const contenders = [];
for (const [index, variant] of variants.entries()) contenders.push(await contender(variant, index));
// With BROKER_PID set (e.g. `pgrep -f beam.smp`), the broker's CPU per message is printed as well.
await runThroughputRounds({ contenders, count: Number(values.count), rounds: Number(values.rounds), brokerPid: process.env.BROKER_PID, label: queueType });
