import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { AmqpChannel, AmqpConnection } from '@mailroom/rabbitmq';

/** The part of amqplib's module the raw baseline uses. */
export interface AmqplibModule {
  connect(url: string, socketOptions?: Record<string, unknown>): Promise<AmqpConnection>;
}

/** A channel with the two operations the rabbitmq package's types leave out. */
export type RawAmqpChannel = AmqpChannel & {
  purgeQueue(queue: string): Promise<unknown>;
  deleteExchange(exchange: string): Promise<unknown>;
};

/** Where `@mailroom/rabbitmq` lives: the baseline loads amqplib from there. */
const rabbitmqEntry = fileURLToPath(import.meta.resolve('@mailroom/rabbitmq'));

/**
 * The very amqplib `@mailroom/rabbitmq` uses (bench/ itself holds amqplib 0.10 for Moleculer,
 * whose peer range stops there), so the raw baseline and Mailroom run on the same client.
 */
export const amqplib = createRequire(rabbitmqEntry)('amqplib') as AmqplibModule;

/** The file `amqplib` was resolved from, for reading its version. */
export const amqplibResolvedFrom = rabbitmqEntry;

/** The RabbitMQ server the benchmarks use; `MAILROOM_RABBITMQ_URL` overrides it. */
export const RABBITMQ_URL = process.env.MAILROOM_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** Runs `work` on a throwaway channel, ignoring a failure (the queue or exchange is already gone). */
export async function onThrowawayChannel(connection: AmqpConnection, work: (channel: RawAmqpChannel) => Promise<unknown>): Promise<void> {
  const channel = (await connection.createChannel()) as RawAmqpChannel;
  channel.on('error', () => undefined);
  try {
    await work(channel);
  } catch {
    // already gone
  } finally {
    await channel.close().catch(() => undefined);
  }
}
