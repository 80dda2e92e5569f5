import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@mailroom/core';
import type { NatsTransport } from '@mailroom/nats';
import type { RabbitMqTransport } from '@mailroom/rabbitmq';
import { jetstreamManager } from '@nats-io/jetstream';
import amqplib from 'amqplib';
import { dropPgDatabase, pgDatabaseName } from '../runtime/pg-databases.js';
import { connectShopTransport } from '../runtime/shop-transport.js';
import { SERVICE_NAMES } from '../service-names.js';
import { describeTransport, type ShopConfig } from '../shop-config.js';
import { TRACKER_ENDPOINT } from '../system.js';

/** Every endpoint of the shop: one per service, and the gateway's operation tracker. */
const SHOP_ENDPOINTS: readonly string[] = [...SERVICE_NAMES, TRACKER_ENDPOINT];
const SQLITE_SUFFIXES = ['', '-wal', '-shm', '-journal'];

/** The SQLite files the shop writes in its data directory: the broker file and one database per service. */
function shopFiles(config: ShopConfig): string[] {
  const bases = [...SERVICE_NAMES.map((service) => join(config.dataDir, `${service}.db`))];
  if (config.transportKind === 'sqlite') bases.push(config.transportUrl.replace(/^(sqlite|file):(\/\/)?/, '').split('?')[0] as string);
  return bases.flatMap((base) => SQLITE_SUFFIXES.map((suffix) => `${base}${suffix}`));
}

async function deleteRabbitQueues(transport: RabbitMqTransport, url: string): Promise<void> {
  const connection = await amqplib.connect(url);
  try {
    for (const endpoint of SHOP_ENDPOINTS) {
      const channel = await connection.createChannel();
      channel.on('error', () => undefined);
      await channel.deleteQueue(transport.queueOf(endpoint)).catch(() => undefined);
      await channel.close().catch(() => undefined);
    }
  } finally {
    await connection.close().catch(() => undefined);
  }
}

async function deleteNatsConsumers(transport: NatsTransport): Promise<void> {
  const { names, connection } = transport;
  const manager = await jetstreamManager(connection);
  for (const stream of [names.eventsStream, names.commandsStream]) {
    for await (const consumer of manager.consumers.list(stream)) {
      const endpoint = names.consumerEndpoint(consumer.name);
      if (endpoint !== undefined && SHOP_ENDPOINTS.includes(endpoint)) await manager.consumers.delete(stream, consumer.name);
    }
  }
  for (const endpoint of SHOP_ENDPOINTS) await manager.streams.purge(names.commandsStream, { filter: names.commandFilter(endpoint) });
}

/**
 * Wipes what the shop keeps between runs, before `npm start -- --fresh` starts it: the SQLite files
 * it wrote in the data directory (the broker file and one database per service; nothing else there
 * is touched), its PostgreSQL databases (`<prefix><service>`) with `SHOP_PG_URL`, and on RabbitMQ or
 * NATS what belongs to its endpoints only: their dead letters, their queues (RabbitMQ) or their
 * durable consumers and queued commands (NATS; events the shop alone was interested in go with its
 * consumers). Shared broker objects (exchanges, streams, the error queue) stay for other systems.
 * Resolves with one line per thing wiped.
 */
export async function wipeShopState(config: ShopConfig, logger: Logger): Promise<string[]> {
  const done: string[] = [];
  const files = shopFiles(config).filter((file) => existsSync(file));
  for (const file of files) rmSync(file, { force: true });
  done.push(`${files.length} SQLite file(s) in ${config.dataDir}`);
  if (config.pgUrl !== undefined) {
    for (const service of SERVICE_NAMES) await dropPgDatabase(config.pgUrl, pgDatabaseName(config, service));
    done.push(`the PostgreSQL databases ${pgDatabaseName(config, '*')}`);
  }
  if (config.transportKind !== 'sqlite') {
    const transport = await connectShopTransport(config, logger, 'shop-fresh');
    try {
      let letters = 0;
      for (const endpoint of SHOP_ENDPOINTS) letters += await transport.deadLetters.purge({ endpoint });
      if (config.transportKind === 'rabbitmq') await deleteRabbitQueues(transport as RabbitMqTransport, config.transportUrl);
      else await deleteNatsConsumers(transport as NatsTransport);
      const what = config.transportKind === 'rabbitmq' ? 'queues' : 'consumers and queued commands';
      done.push(`${letters} dead letter(s) and the ${what} of the shop's endpoints on ${describeTransport(config)}`);
    } finally {
      await transport.close();
    }
  }
  return done;
}
