import { createNatsNames } from '@mailroom/nats';
import { DELAY_LEVELS, topologyNames } from '@mailroom/rabbitmq';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import amqplib from 'amqplib';
import { dropPgDatabase } from '../../src/runtime/pg-databases.js';
import { SERVICE_NAMES } from '../../src/service-names.js';
import { TRACKER_ENDPOINT } from '../../src/system.js';

/** Drops the databases `<prefix><service>` of every service on the PostgreSQL server. */
export async function dropShopDatabases(serverUrl: string, prefix: string): Promise<void> {
  for (const service of SERVICE_NAMES) await dropPgDatabase(serverUrl, `${prefix}${service}`);
}

export { dropPgDatabase };

/** Deletes what a shop declared in a RabbitMQ namespace: its endpoint queues, error queue, registry, locks, delay levels, exchanges. */
export async function deleteRabbitNamespace(url: string, namespace: string): Promise<void> {
  const names = topologyNames(namespace);
  const connection = await amqplib.connect(url);
  const quietly = async (work: (channel: amqplib.Channel) => Promise<unknown>) => {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    await work(channel).catch(() => undefined);
    await channel.close().catch(() => undefined);
  };
  try {
    const endpoints = [...SERVICE_NAMES, TRACKER_ENDPOINT].map((endpoint) => `${namespace}.${endpoint}`);
    for (const queue of [...endpoints, names.errorQueue, names.registry, names.lock(names.errorQueue), names.lock(names.registry)]) {
      await quietly((channel) => channel.deleteQueue(queue));
    }
    for (let level = 0; level < DELAY_LEVELS; level++) {
      await quietly((channel) => channel.deleteQueue(names.delayLevel(level)));
      await quietly((channel) => channel.deleteExchange(names.delayLevel(level)));
    }
    for (const exchange of [names.events, names.delayDeliver]) await quietly((channel) => channel.deleteExchange(exchange));
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** Deletes the JetStream streams and retry-state bucket a shop created under a NATS prefix. */
export async function deleteNatsPrefix(server: string, prefix: string): Promise<void> {
  const names = createNatsNames(prefix);
  const connection = await connect({ servers: server });
  try {
    const manager = await jetstreamManager(connection);
    for (const stream of names.streams) {
      await manager.streams.delete(stream).catch(() => undefined);
    }
  } finally {
    await connection.close();
  }
}
