import { createRabbitMqTransport, DELAY_LEVELS, topologyNames } from '@mailroom/rabbitmq';
import type { MessagingContender } from '../messaging-contender.js';
import { amqplib, onThrowawayChannel, RABBITMQ_URL } from './amqplib-client.js';
import { mailroomEndpoint } from './mailroom-endpoint.js';

/** Settings of the Mailroom RabbitMQ contender. */
export interface MailroomRabbitMqOptions {
  readonly name: string;
  readonly queueType: 'classic' | 'quorum';
  /** Endpoint concurrency (= the consumer's prefetch). */
  readonly prefetch: number;
  /** `maxUnconfirmed` of the transport (the confirm window). */
  readonly window: number;
  /** A namespace of its own, deleted on stop. */
  readonly namespace: string;
  readonly endpoint: string;
  /** The transport's `envelopeHeaders` (default: the transport's default, `compact`). */
  readonly envelopeHeaders?: 'compact' | 'full';
}

/**
 * Mailroom on RabbitMQ as a service uses it: `endpoint.publish(contract, data)` (validated, enveloped,
 * broker-confirmed) and a handler registered with `endpoint.on`, acknowledged after it returns.
 */
export function mailroomRabbitMq(options: MailroomRabbitMqOptions): MessagingContender {
  return mailroomEndpoint({
    ...options,
    openTransport: () =>
      createRabbitMqTransport({
        url: RABBITMQ_URL,
        namespace: options.namespace,
        queueType: options.queueType,
        maxUnconfirmed: options.window,
        ...(options.envelopeHeaders === undefined ? {} : { envelopeHeaders: options.envelopeHeaders }),
      }),
    cleanUp: () => deleteRabbitMqNamespace(options.namespace, [options.endpoint]),
  });
}

/** Deletes the queues and exchanges Mailroom declared in `namespace`, plus `queues`. */
export async function deleteRabbitMqNamespace(namespace: string, queues: readonly string[]): Promise<void> {
  const names = topologyNames(namespace);
  const connection = await amqplib.connect(RABBITMQ_URL);
  try {
    for (const queue of [...queues, names.errorQueue, names.registry, names.lock(names.errorQueue), names.lock(names.registry)]) {
      await onThrowawayChannel(connection, (ch) => ch.deleteQueue(queue));
    }
    for (let level = 0; level < DELAY_LEVELS; level++) {
      await onThrowawayChannel(connection, (ch) => ch.deleteQueue(names.delayLevel(level)));
      await onThrowawayChannel(connection, (ch) => ch.deleteExchange(names.delayLevel(level)));
    }
    for (const exchange of [names.events, names.delayDeliver]) await onThrowawayChannel(connection, (ch) => ch.deleteExchange(exchange));
  } finally {
    await connection.close().catch(() => undefined);
  }
}
