import { createRequire } from 'node:module';
import type { BenchMessage } from '../bench-message.js';
import type { MessagingContender } from '../messaging-contender.js';
import { amqplib, onThrowawayChannel, RABBITMQ_URL } from './amqplib-client.js';

const require = createRequire(import.meta.url);

interface Broker {
  start(): Promise<void>;
  stop(): Promise<void>;
  createService(schema: object): unknown;
  sendToChannel(channel: string, payload: unknown, options?: object): Promise<void>;
  channelAdapter: { channel: { once(event: string, listener: () => void): unknown } | null };
}

/** Settings of the Moleculer contender. */
export interface MoleculerOptions {
  readonly name: string;
  /** Channel (fanout exchange) name; the queue is `<group>.<channel>`. */
  readonly channel: string;
  readonly group: string;
  readonly deadLetterQueue: string;
  /** `maxInFlight`: the consumer's prefetch. */
  readonly prefetch: number;
}

/**
 * Moleculer 0.14 with @moleculer/channels on its AMQP adapter (amqplib 0.10, the newest its peer
 * range allows), set up for durability as far as it goes: durable exchange and queue, persistent
 * messages, acks after the handler, dead-lettering on; its socket with `noDelay` like the others. It has no publisher confirms: `sendToChannel`
 * resolves once amqplib buffered the message. When amqplib's buffer is full it throws "Write buffer
 * is full" after buffering the message, so the publisher waits for `drain` and does not resend.
 */
export function moleculerPeer(options: MoleculerOptions): MessagingContender {
  let broker: Broker | undefined;
  let draining: Promise<void> | undefined;
  return {
    name: options.name,
    async start(deliver) {
      const { ServiceBroker } = require('moleculer') as { ServiceBroker: new (options: object) => Broker };
      const Channels = require('@moleculer/channels') as { Middleware: (options: object) => object };
      broker = new ServiceBroker({
        nodeID: `${options.group}-${process.pid}`,
        logger: false,
        transporter: null,
        middlewares: [
          Channels.Middleware({
            adapter: {
              type: 'AMQP',
              options: {
                amqp: {
                  url: RABBITMQ_URL,
                  socketOptions: { noDelay: true },
                  exchangeOptions: { durable: true },
                  queueOptions: { durable: true },
                  messageOptions: { persistent: true },
                },
                maxInFlight: options.prefetch,
                maxRetries: 3,
                deadLettering: { enabled: true, queueName: options.deadLetterQueue, exchangeName: `${options.deadLetterQueue}.x` },
              },
            },
          }),
        ],
      });
      broker.createService({
        name: 'bench',
        channels: {
          [options.channel]: {
            group: options.group,
            async handler(payload: BenchMessage) {
              deliver(payload);
            },
          },
        },
      });
      await broker.start();
    },
    async publish(message) {
      const b = broker as Broker;
      if (draining) await draining;
      try {
        await b.sendToChannel(options.channel, message, { persistent: true });
      } catch (error) {
        if (!/Write buffer is full/.test(String(error))) throw error;
        const channel = b.channelAdapter.channel;
        draining ??= new Promise<void>((resolve) => channel?.once('drain', resolve)).finally(() => {
          draining = undefined;
        });
      }
    },
    async stop() {
      await broker?.stop();
      const connection = await amqplib.connect(RABBITMQ_URL);
      for (const queue of [`${options.group}.${options.channel}`, options.deadLetterQueue]) await onThrowawayChannel(connection, (ch) => ch.deleteQueue(queue));
      for (const exchange of [options.channel, `${options.deadLetterQueue}.x`]) await onThrowawayChannel(connection, (ch) => ch.deleteExchange(exchange));
      await connection.close();
    },
  };
}
