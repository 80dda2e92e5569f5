import { join } from 'node:path';
import { createEnvelope, createMemoryTransport, envelopeToHeaders, HeaderNames, type OutgoingMessage, type Transport } from '@mailroom/core';
import { createNatsTransport } from '@mailroom/nats';
import { createPostgresTransport } from '@mailroom/postgres';
import { createRabbitMqTransport } from '@mailroom/rabbitmq';
import { createSqliteTransport } from '@mailroom/sqlite';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { RABBITMQ_URL } from '../contenders/amqplib-client.js';
import { deleteRabbitMqNamespace } from '../contenders/mailroom-rabbitmq.js';
import { deleteStreams, NATS_SERVERS } from '../contenders/nats-server.js';
import { createBenchDatabase, dropBenchDatabase } from '../contenders/postgres-server.js';
import { Recorder } from '../recorder.js';
import type { Scenario } from '../scenario.js';
import { median, significant } from '../stats.js';
import { tempDir } from '../temp-dir.js';
import { uniqueName } from '../unique-name.js';
import { packageVersions } from '../versions.js';

/** How far ahead the first message of a round is scheduled, and over how long the round's messages are spread. */
const LEAD_MS = 1500;
const SPREAD_MS = 2000;
const METRIC = 'lateness after deliverAt';

interface Case {
  readonly name: string;
  open(): Promise<Transport>;
  cleanUp(): Promise<void>;
}

/** Publishes `count` events scheduled over SPREAD_MS, each to arrive LEAD_MS + i * step from now; resolves with each one's lateness (ms). */
async function round(transport: Transport, endpoint: string, count: number): Promise<number[]> {
  const type = uniqueName('Scheduled').replace(/-/g, '_');
  const due = new Map<string, number>();
  const lateness: number[] = [];
  let done: () => void = () => {};
  const all = new Promise<void>((resolve) => (done = resolve));
  const subscription = await transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 64 }, async (delivery) => {
    const at = due.get(delivery.headers[HeaderNames.id] as string);
    if (at !== undefined) lateness.push(Date.now() - at);
    await delivery.ack();
    if (lateness.length === count) done();
  });
  try {
    const start = Date.now();
    const messages: OutgoingMessage[] = Array.from({ length: count }, (_, i) => {
      const headers = envelopeToHeaders(createEnvelope({ type, dataversion: 1, source: 'urn:mailroom:bench' }));
      const deliverAt = new Date(start + LEAD_MS + Math.round((i * SPREAD_MS) / count));
      due.set(headers[HeaderNames.id] as string, deliverAt.getTime());
      return { route: { kind: 'event', type }, headers, body: new Uint8Array(64), deliverAt };
    });
    await Promise.all(messages.map((message) => transport.publish(message)));
    const timeout = setTimeout(done, LEAD_MS + SPREAD_MS + 30_000);
    await all;
    clearTimeout(timeout);
    if (lateness.length < count) throw new Error(`only ${lateness.length} of ${count} scheduled messages arrived`);
    return lateness;
  } finally {
    await subscription.close();
  }
}

/** Scenario: how late scheduled messages arrive after their `deliverAt`, per transport. */
export const scheduleScenario: Scenario = {
  name: 'schedule',
  title: 'Scheduled messages: lateness after deliverAt, per transport',
  description:
    `Each round publishes a batch of 64-byte events with deliverAt spread over ${SPREAD_MS} ms, the first ${LEAD_MS} ms ahead, through the transport directly (one subscribed endpoint, concurrency 64, publisher and consumer in this process), ` +
    'and measures for every message how long after its deliverAt its handler ran (receipt time minus deliverAt, same clock). p50 and max over the round; a negative value would be an early delivery. ' +
    'The brokers run on the same machine as the benchmark.',
  async run(context) {
    const recorder = new Recorder();
    const dir = tempDir('mailroom-bench-schedule');
    const count = context.size(200, 20);
    const id = uniqueName('sched').replace(/-/g, '_');
    const endpoint = `${id}-ep`.replace(/_/g, '-');
    const database = `bench_${id}`;
    const natsPrefix = `${id}_mr`;
    const cases: Case[] = [
      { name: 'memory', open: async () => createMemoryTransport(), cleanUp: async () => {} },
      { name: 'SQLite', open: async () => createSqliteTransport({ path: join(dir.path, 'schedule.db') }), cleanUp: async () => {} },
      {
        name: 'PostgreSQL',
        open: async () => createPostgresTransport({ connectionString: await createBenchDatabase(database) }),
        cleanUp: () => dropBenchDatabase(database),
      },
      {
        name: 'RabbitMQ',
        open: () => createRabbitMqTransport({ url: RABBITMQ_URL, namespace: `${id}.mr` }),
        cleanUp: () => deleteRabbitMqNamespace(`${id}.mr`, [endpoint]),
      },
      {
        name: 'NATS JetStream',
        open: () => createNatsTransport({ servers: NATS_SERVERS, prefix: natsPrefix }),
        async cleanUp() {
          const connection = await connect({ servers: NATS_SERVERS });
          try {
            await deleteStreams(await jetstreamManager(connection), [natsPrefix.toUpperCase(), `KV_${natsPrefix.toUpperCase()}`]);
          } finally {
            await connection.close();
          }
        },
      },
    ];
    try {
      for (const c of cases) {
        const transport = await c.open();
        try {
          for (let r = 0; r < context.warmup + context.rounds; r++) {
            const lateness = await round(transport, endpoint, count);
            if (r < context.warmup) continue;
            const p50 = median(lateness);
            const max = Math.max(...lateness);
            const min = Math.min(...lateness);
            recorder.add(c.name, 'p50', METRIC, 'ms', 'lower', significant(p50));
            recorder.add(c.name, 'max', METRIC, 'ms', 'lower', significant(max));
            recorder.add(c.name, 'min (negative = early)', METRIC, 'ms', 'higher', significant(min));
            context.log(
              `${c.name}: p50 ${p50.toFixed(1)} ms, max ${max} ms, min ${min} ms (declared delayPrecisionMs ${transport.capabilities.delayPrecisionMs})`,
            );
          }
        } finally {
          await transport.close();
          await c.cleanUp().catch((error: unknown) => context.log(`${c.name}: clean-up failed: ${String(error)}`));
        }
      }
    } finally {
      dir.remove();
    }
    return {
      versions: packageVersions([
        '@mailroom/core',
        '@mailroom/sqlite',
        '@mailroom/postgres',
        '@mailroom/rabbitmq',
        '@mailroom/nats',
        '@nats-io/jetstream',
        'amqplib',
      ]),
      settings: { count, leadMs: LEAD_MS, spreadMs: SPREAD_MS, natsServers: NATS_SERVERS },
      recorder,
      notes: [
        'Lateness is what a handler sees: the transport’s delay mechanism plus the hop to the consumer. The declared delayPrecisionMs of each transport is the bound the conformance suite checks (with travel slack).',
      ],
    };
  },
};
