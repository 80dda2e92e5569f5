import { createEnvelope, envelopeToHeaders } from '@mailroom/core';
import type { AmqpConfirmChannel, AmqpConnection } from '@mailroom/rabbitmq';
import type { BenchMessage } from '../bench-message.js';
import type { MessagingContender } from '../messaging-contender.js';
import { amqplib, onThrowawayChannel, RABBITMQ_URL, type RawAmqpChannel } from './amqplib-client.js';

/** The routing key (and AMQP `type`) the raw publishers send {@link BenchMessage}s with. */
export const BENCH_ROUTING_KEY = 'bench.MessageSent';

/**
 * Publishing as a competent amqplib user writes it: each message as persistent JSON on a confirm
 * channel, resolving on the broker's ack; when amqplib says its buffer is full, later publishes
 * wait for `drain`. With `envelopeHeaders`, also the CloudEvents headers Mailroom sends.
 */
export function rawConfirmPublisher(channel: AmqpConfirmChannel, exchange: string, envelopeHeaders: boolean): (message: BenchMessage) => Promise<void> {
  let draining: Promise<unknown> | undefined;
  return async (message) => {
    if (draining) await draining;
    const content = Buffer.from(JSON.stringify(message));
    const headers = envelopeHeaders ? envelopeToHeaders(createEnvelope({ type: BENCH_ROUTING_KEY, dataversion: 1, source: 'urn:bench:raw' })) : undefined;
    await new Promise<void>((resolve, reject) => {
      const flowing = channel.publish(
        exchange,
        BENCH_ROUTING_KEY,
        content,
        { persistent: true, contentType: 'application/json', type: BENCH_ROUTING_KEY, messageId: String(message.seq), ...(headers && { headers }) },
        (error) => (error ? reject(error) : resolve()),
      );
      if (!flowing && !draining) {
        draining = new Promise((resolve) => channel.once('drain', resolve)).finally(() => {
          draining = undefined;
        });
      }
    });
  };
}

/** Settings of the raw amqplib baseline. */
export interface RawAmqplibOptions {
  readonly name: string;
  readonly queueType: 'classic' | 'quorum';
  /** Consumer prefetch, as Mailroom's endpoint concurrency. */
  readonly prefetch: number;
  /** Unique names of this run. */
  readonly exchange: string;
  readonly queue: string;
  /**
   * Also send the CloudEvents headers Mailroom sends (`ce-id`, `ce-type`, `ce-time`... built the
   * same way), to tell the cost of carrying an envelope from the cost of Mailroom's code.
   */
  readonly envelopeHeaders?: boolean;
}

/**
 * The raw baseline as a competent amqplib user writes it: a durable topic exchange bound to a
 * durable queue of the same type as Mailroom's, a socket with Nagle's algorithm off (`noDelay`, as
 * Mailroom's transport opens it; amqplib's default leaves it on and adds ~40 ms to some deliveries),
 * persistent messages on a confirm channel (a
 * publish resolves on the broker's ack; `drain` is awaited when amqplib asks), a consumer on its
 * own channel with the same prefetch that parses the JSON body and acks after handling.
 */
export function rawAmqplib(options: RawAmqplibOptions): MessagingContender {
  let connection: AmqpConnection | undefined;
  let publisher: AmqpConfirmChannel | undefined;
  let consumer: RawAmqpChannel | undefined;
  let publish: ((message: BenchMessage) => Promise<void>) | undefined;

  return {
    name: options.name,
    async start(deliver) {
      connection = await amqplib.connect(RABBITMQ_URL, { noDelay: true });
      publisher = await connection.createConfirmChannel();
      await publisher.assertExchange(options.exchange, 'topic', { durable: true });
      await publisher.assertQueue(options.queue, { durable: true, arguments: { 'x-queue-type': options.queueType } });
      await publisher.bindQueue(options.queue, options.exchange, BENCH_ROUTING_KEY);
      publish = rawConfirmPublisher(publisher, options.exchange, options.envelopeHeaders ?? false);
      const channel = (await connection.createChannel()) as RawAmqpChannel;
      consumer = channel;
      await channel.prefetch(options.prefetch, false);
      await channel.consume(
        options.queue,
        (message) => {
          if (message === null) return;
          deliver(JSON.parse(message.content.toString('utf8')) as BenchMessage);
          channel.ack(message);
        },
        { noAck: false },
      );
    },
    async publish(message) {
      await (publish as (message: BenchMessage) => Promise<void>)(message);
    },
    async stop() {
      if (!connection) return;
      await consumer?.close().catch(() => undefined);
      await publisher?.close().catch(() => undefined);
      await onThrowawayChannel(connection, (ch) => ch.deleteQueue(options.queue));
      await onThrowawayChannel(connection, (ch) => ch.deleteExchange(options.exchange));
      await connection.close().catch(() => undefined);
      connection = undefined;
    },
  };
}
