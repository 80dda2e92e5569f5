import 'reflect-metadata';
import busCore, { type BusInstance, type Logger } from '@node-ts/bus-core';
import busMessages from '@node-ts/bus-messages';
import busRabbitMq from '@node-ts/bus-rabbitmq';
import type { BenchMessage } from '../bench-message.js';
import type { MessagingContender } from '../messaging-contender.js';
import { amqplib, onThrowawayChannel, RABBITMQ_URL } from './amqplib-client.js';

/** Settings of the @node-ts/bus contender. */
export interface NodeTsBusOptions {
  readonly name: string;
  readonly queue: string;
  /** The event's `$name` (its fanout exchange). */
  readonly eventName: string;
  /** Handling workers (`withConcurrency`). */
  readonly concurrency: number;
}

const { Bus, handlerFor } = busCore;
const { Event } = busMessages;
const { RabbitMqTransport } = busRabbitMq;

const silent: Logger = { debug() {}, trace() {}, info() {}, warn() {}, error() {}, fatal() {} };

/**
 * @node-ts/bus 1.3 with @node-ts/bus-rabbitmq 1.0.5 (the only release; it pins amqplib ^0.6, whose
 * engines field stops at Node 14 but which runs on Node 20). Configured as far as it allows: a
 * durable service queue, a retry queue and a dead-letter queue of its own. It cannot be made durable
 * the way Mailroom is: it publishes on a plain channel without confirms and without the persistent
 * flag (no option for either), and it reads with one `basic.get` per message per worker.
 */
export function nodeTsBusPeer(options: NodeTsBusOptions): MessagingContender {
  let bus: BusInstance | undefined;
  class BenchSent extends Event {
    readonly $name = options.eventName;
    readonly $version = 1;
    seq = 0;
    sentAt = 0;
    pad = '';
  }
  return {
    name: options.name,
    async start(deliver) {
      const transport = new RabbitMqTransport({
        queueName: options.queue,
        connectionString: RABBITMQ_URL,
        maxRetries: 3,
        deadLetterQueueName: `${options.queue}-dlq`,
      });
      bus = Bus.configure()
        .withTransport(transport as never)
        .withLogger(() => silent)
        .withConcurrency(options.concurrency)
        .withHandler(handlerFor(BenchSent, async (event: BenchSent) => deliver({ seq: event.seq, sentAt: event.sentAt, pad: event.pad })))
        .build();
      await bus.initialize();
      await bus.start();
    },
    async publish(message: BenchMessage) {
      await (bus as BusInstance).publish(Object.assign(new BenchSent(), message));
    },
    async stop() {
      await bus?.dispose();
      const connection = await amqplib.connect(RABBITMQ_URL);
      for (const queue of [options.queue, `${options.queue}-retry`, `${options.queue}-dlq`])
        await onThrowawayChannel(connection, (ch) => ch.deleteQueue(queue));
      for (const exchange of [options.queue, `${options.queue}-retry`, options.eventName])
        await onThrowawayChannel(connection, (ch) => ch.deleteExchange(exchange));
      await connection.close();
    },
  };
}
