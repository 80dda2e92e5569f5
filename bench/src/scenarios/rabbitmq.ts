import { mailroomRabbitMq } from '../contenders/mailroom-rabbitmq.js';
import { rabbitMqVersions } from '../contenders/rabbitmq-versions.js';
import { rawAmqplib } from '../contenders/raw-amqplib.js';
import { MessagingMetrics, type MessagingSizes, runMessagingComparison } from '../messaging-comparison.js';
import { Recorder } from '../recorder.js';
import type { Scenario } from '../scenario.js';
import { uniqueName } from '../unique-name.js';

/** Settings shared by both contenders. */
const PREFETCH = 64;
const WINDOW = 128;

/** Scenario 1: Mailroom vs raw amqplib on RabbitMQ, classic and quorum queues. */
export const rabbitmqScenario: Scenario = {
  name: 'rabbitmq',
  title: 'RabbitMQ end to end: Mailroom vs raw amqplib',
  description:
    'Publish with confirms -> handle -> ack, 1 KiB persistent messages through a topic exchange into a durable queue, publisher and consumer in one process. ' +
    `Both contenders keep ${WINDOW} publishes awaiting their confirm and consume with prefetch ${PREFETCH}. ` +
    'Throughput: messages handled per second, first publish to last delivery. Latency: publish call -> handler, HdrHistogram, at 1k/s and at half the raw median throughput. ' +
    '"raw + envelope headers" is the raw baseline also sending the eight CloudEvents headers as eight header-table entries (no target; it tells what the headers cost). ' +
    '"mailroom" uses the transport defaults, so the compact envelope form (five attributes in AMQP properties, three packed into one table entry); ' +
    '"mailroom (full headers)" is the same with envelopeHeaders: \'full\' (every header its own table entry, the form older consumers read; no target).',
  async run(context) {
    const recorder = new Recorder();
    const sizes: MessagingSizes = { throughputCount: context.size(20_000, 500), window: WINDOW, latencySeconds: 2 * context.scale, rates: [1000, 'half'] };
    const rates: Record<string, Record<string, number>> = {};
    for (const queueType of ['classic', 'quorum'] as const) {
      const id = uniqueName('bench-rmq');
      const contenders = [
        rawAmqplib({ name: 'raw amqplib', queueType, prefetch: PREFETCH, exchange: `${id}.raw.events`, queue: `${id}.raw` }),
        rawAmqplib({
          name: 'raw + envelope headers',
          queueType,
          prefetch: PREFETCH,
          exchange: `${id}.rawh.events`,
          queue: `${id}.rawh`,
          envelopeHeaders: true,
        }),
        mailroomRabbitMq({ name: 'mailroom', queueType, prefetch: PREFETCH, window: WINDOW, namespace: `${id}.mailroom`, endpoint: `${id}-mailroom` }),
        mailroomRabbitMq({
          name: 'mailroom (full headers)',
          queueType,
          prefetch: PREFETCH,
          window: WINDOW,
          namespace: `${id}.mailroomf`,
          endpoint: `${id}-mailroomf`,
          envelopeHeaders: 'full',
        }),
      ];
      rates[queueType] = (await runMessagingComparison(context, recorder, queueType, contenders, sizes)).rates;
      recorder.compare(queueType, MessagingMetrics.throughput, 'mailroom', 'raw amqplib', { op: '>=', value: 0.9 });
      recorder.compare(queueType, MessagingMetrics.throughput, 'raw + envelope headers', 'raw amqplib');
      recorder.compare(queueType, MessagingMetrics.throughput, 'mailroom', 'raw + envelope headers');
      recorder.compare(queueType, MessagingMetrics.throughput, 'mailroom (full headers)', 'raw amqplib');
      for (const rate of sizes.rates) {
        recorder.compare(queueType, MessagingMetrics.p50(rate), 'mailroom', 'raw amqplib', { op: '<=', value: 1.15 });
        recorder.compare(queueType, MessagingMetrics.p99(rate), 'mailroom', 'raw amqplib', { op: '<=', value: 1.3 });
      }
    }
    return {
      versions: await rabbitMqVersions(),
      settings: {
        ...sizes,
        prefetch: PREFETCH,
        confirmWindow: WINDOW,
        socket: 'noDelay (Nagle off) for every connection',
        messageBytes: 1024,
        persistent: true,
        ratesPerSecond: rates,
      },
      recorder,
      notes: [],
    };
  },
};
