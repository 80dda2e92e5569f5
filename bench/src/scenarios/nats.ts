import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { mailroomNats } from '../contenders/mailroom-nats.js';
import { NATS_SERVERS } from '../contenders/nats-server.js';
import { rawNats } from '../contenders/raw-nats.js';
import { MessagingMetrics, type MessagingSizes, runMessagingComparison } from '../messaging-comparison.js';
import { Recorder } from '../recorder.js';
import type { Scenario } from '../scenario.js';
import { uniqueName } from '../unique-name.js';
import { packageVersions } from '../versions.js';

const PREFETCH = 64;
const WINDOW = 128;

async function serverVersion(): Promise<string> {
  const nc: NatsConnection = await connect({ servers: NATS_SERVERS });
  try {
    return nc.info?.version ?? 'unknown';
  } finally {
    await nc.close();
  }
}

/** Scenario 2: Mailroom vs the raw @nats-io client on JetStream. */
export const natsScenario: Scenario = {
  name: 'nats',
  title: 'NATS JetStream end to end: Mailroom vs the raw @nats-io client',
  description:
    'Publish (awaiting the PubAck) -> handle -> ack, 1 KiB messages into a file-storage interest stream with a durable pull consumer, publisher and consumer in one process. ' +
    `Both keep ${WINDOW} publishes awaiting their PubAck and pull at most ${PREFETCH} messages. Same metrics as the RabbitMQ scenario. ` +
    '"raw + same guarantees" is the raw baseline also doing what Mailroom does for its guarantees: a Nats-Msg-Id per message and the CloudEvents headers (no target). The Mailroom endpoint runs 64 handlers and pulls up to twice that ahead.',
  async run(context) {
    const recorder = new Recorder();
    const sizes: MessagingSizes = { throughputCount: context.size(20_000, 500), window: WINDOW, latencySeconds: 2 * context.scale, rates: [1000, 'half'] };
    const id = uniqueName('bench').replace('-', '_');
    const group = 'file storage';
    const contenders = [
      rawNats({ name: 'raw @nats-io', stream: `${id.toUpperCase()}_RAW`, subject: `${id}.raw`, prefetch: PREFETCH }),
      rawNats({ name: 'raw + same guarantees', stream: `${id.toUpperCase()}_RAWG`, subject: `${id}.rawg`, prefetch: PREFETCH, sameGuarantees: true }),
      mailroomNats({ name: 'mailroom', prefix: `${id}_mr`, endpoint: `${id}-mailroom`.replace(/_/g, '-'), prefetch: PREFETCH }),
    ];
    const { rates } = await runMessagingComparison(context, recorder, group, contenders, sizes);
    recorder.compare(group, MessagingMetrics.throughput, 'mailroom', 'raw @nats-io', { op: '>=', value: 0.9 });
    recorder.compare(group, MessagingMetrics.throughput, 'raw + same guarantees', 'raw @nats-io');
    recorder.compare(group, MessagingMetrics.throughput, 'mailroom', 'raw + same guarantees');
    for (const rate of sizes.rates) {
      recorder.compare(group, MessagingMetrics.p50(rate), 'mailroom', 'raw @nats-io', { op: '<=', value: 1.15 });
      recorder.compare(group, MessagingMetrics.p99(rate), 'mailroom', 'raw @nats-io', { op: '<=', value: 1.3 });
    }
    return {
      versions: {
        'nats-server': await serverVersion(),
        ...packageVersions(['@nats-io/jetstream', '@nats-io/transport-node', '@mailroom/core', '@mailroom/nats', 'zod']),
      },
      settings: {
        ...sizes,
        prefetch: PREFETCH,
        publishWindow: WINDOW,
        messageBytes: 1024,
        storage: 'file',
        ratesPerSecond: rates,
        rawAck: 'msg.ack(), as Mailroom (neither waits for a confirmation)',
        rawMsgId: 'none (Mailroom sets Nats-Msg-Id to the envelope id for dedup)',
      },
      recorder,
      notes: [],
    };
  },
};
