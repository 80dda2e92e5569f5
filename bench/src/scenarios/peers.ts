import { mailroomRabbitMq } from '../contenders/mailroom-rabbitmq.js';
import { moleculerPeer } from '../contenders/peer-moleculer.js';
import { nodeTsBusPeer } from '../contenders/peer-node-ts-bus.js';
import { rabbitMqVersions } from '../contenders/rabbitmq-versions.js';
import { MessagingMetrics, type MessagingSizes, runMessagingComparison } from '../messaging-comparison.js';
import { Recorder } from '../recorder.js';
import type { Scenario } from '../scenario.js';
import { uniqueName } from '../unique-name.js';
import { packageVersion, packageVersions } from '../versions.js';

const PREFETCH = 64;
const WINDOW = 128;
const MAILROOM = 'mailroom';
const MOLECULER = 'moleculer + channels';
const NODE_TS = '@node-ts/bus';

/** Scenario 6: Mailroom and two peer libraries doing the same work on the same RabbitMQ. */
export const peersScenario: Scenario = {
  name: 'peers',
  title: 'Peers on the same RabbitMQ: Moleculer + @moleculer/channels, @node-ts/bus',
  description:
    `The RabbitMQ scenario's work (1 KiB events, durable classic queue, ack after the handler, ${WINDOW} publishes awaited at once, prefetch or concurrency ${PREFETCH}) done by each library as its documentation sets it up. ` +
    'Ratios are Mailroom over the peer: above 1 in throughput and below 1 in latency mean Mailroom is ahead. Neither peer has publisher confirms: their publish resolves before the broker has the message, which favours them.',
  async run(context) {
    const recorder = new Recorder();
    const id = uniqueName('bench-peers');
    const sizes: MessagingSizes = { throughputCount: context.size(10_000, 500), window: WINDOW, latencySeconds: 2 * context.scale, rates: [1000] };
    const mailroom = (tag: string) =>
      mailroomRabbitMq({ name: MAILROOM, queueType: 'classic', prefetch: PREFETCH, window: WINDOW, namespace: `${id}.${tag}`, endpoint: `${id}-${tag}` });
    await runMessagingComparison(
      context,
      recorder,
      'vs moleculer',
      [
        mailroom('mr1'),
        moleculerPeer({ name: MOLECULER, channel: `${id}.moleculer.sent`, group: 'bench', deadLetterQueue: `${id}.moleculer.dlq`, prefetch: PREFETCH }),
      ],
      sizes,
    );
    // @node-ts/bus handles a few dozen messages per second here (see the notes), so it gets fewer
    // messages and no 1k/s latency phase, which it cannot sustain.
    const slowSizes: MessagingSizes = { ...sizes, throughputCount: context.size(500, 100), rates: [] };
    await runMessagingComparison(
      context,
      recorder,
      'vs @node-ts/bus',
      [mailroom('mr2'), nodeTsBusPeer({ name: NODE_TS, queue: `${id}.nodets`, eventName: `${id}.nodets.sent`, concurrency: PREFETCH })],
      slowSizes,
    );
    recorder.compare('vs moleculer', MessagingMetrics.throughput, MAILROOM, MOLECULER, { op: '>=', value: 1 });
    recorder.compare('vs moleculer', MessagingMetrics.p50(1000), MAILROOM, MOLECULER, { op: '<=', value: 1 });
    recorder.compare('vs moleculer', MessagingMetrics.p99(1000), MAILROOM, MOLECULER, { op: '<=', value: 1 });
    recorder.compare('vs @node-ts/bus', MessagingMetrics.throughput, MAILROOM, NODE_TS, { op: '>=', value: 1 });
    return {
      versions: {
        ...(await rabbitMqVersions()),
        ...packageVersions(['moleculer', '@moleculer/channels', '@node-ts/bus-core', '@node-ts/bus-rabbitmq']),
        'amqplib (moleculer)': packageVersion('amqplib'),
        'amqplib (@node-ts/bus-rabbitmq)': packageVersion('amqplib', packageVersionPath('@node-ts/bus-rabbitmq')),
      },
      settings: { ...sizes, nodeTsBusThroughputCount: slowSizes.throughputCount, prefetch: PREFETCH, window: WINDOW, queueType: 'classic', messageBytes: 1024 },
      recorder,
      notes: [
        'Moleculer: persistent messages, durable queue, acks after the handler, dead-lettering on, socket noDelay as for Mailroom; no publisher confirms (the AMQP adapter publishes on a plain channel).',
        '@node-ts/bus: publishes without confirms and without the persistent flag (no option for either), so its messages do not survive a broker restart. ' +
          'It reads with one basic.get per message, and amqplib runs one RPC at a time per channel, so its workers take turns; the transport passes no socket options, so Nagle stays on. ' +
          'Measured with 8 workers and a backlog of 200: 180 reads in 4 s, none empty, 174 ms per read on average (about 22 ms per round trip).',
      ],
    };
  },
};

function packageVersionPath(name: string): string {
  return new URL(import.meta.resolve(name)).pathname;
}
