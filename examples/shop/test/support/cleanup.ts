import { createNatsNames } from '@mailroom/nats';
import { DELAY_LEVELS, topologyNames } from '@mailroom/rabbitmq';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import amqplib from 'amqplib';
import pg from 'pg';
import { SERVICE_NAMES } from '../../src/service-names.js';
import { TRACKER_ENDPOINT } from '../../src/system.js';

/** Runs `work` on a client of the server's `postgres` database, closed afterwards. */
async function withAdmin(serverUrl: string, work: (admin: pg.Client) => Promise<void>): Promise<void> {
  const admin = new pg.Client({ connectionString: `${serverUrl.replace(/\/+$/, '')}/postgres` });
  await admin.connect();
  try {
    await work(admin);
  } finally {
    await admin.end();
  }
}

/** Drops database `name` on the PostgreSQL server, closing the sessions still on it. */
export function dropPgDatabase(serverUrl: string, name: string): Promise<void> {
  return withAdmin(serverUrl, async (admin) => {
    await admin.query(`DROP DATABASE IF EXISTS "${name.replaceAll('"', '""')}" WITH (FORCE)`);
  });
}

/** Drops the databases `<prefix><service>` of every service on the PostgreSQL server. */
export function dropShopDatabases(serverUrl: string, prefix: string): Promise<void> {
  return withAdmin(serverUrl, async (admin) => {
    for (const service of SERVICE_NAMES) await admin.query(`DROP DATABASE IF EXISTS "${prefix}${service}" WITH (FORCE)`);
  });
}

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
