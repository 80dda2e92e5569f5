/**
 * The subset of amqplib this package uses, typed here so that users can pass their own amqplib
 * connection (a `ChannelModel`, or a `RecoveringChannelModel` made with `connect(url, { recovery })`)
 * and so that the package does not depend on amqplib's type declarations beyond these shapes.
 */

/** A listener as amqplib's emitters take it. */
export type AmqpListener = (...args: any[]) => void;

/** The event-emitter half of amqplib's connections and channels. */
export interface AmqpEmitter {
  on(event: string, listener: AmqpListener): unknown;
  once(event: string, listener: AmqpListener): unknown;
  removeListener(event: string, listener: AmqpListener): unknown;
}

/** What a queue declaration tells: its name, ready messages and consumers. */
export interface AmqpQueueReply {
  readonly queue: string;
  readonly messageCount: number;
  readonly consumerCount: number;
}

/** AMQP message properties as amqplib reads and writes them. */
export interface AmqpProperties {
  headers?: Record<string, unknown> | undefined;
  contentType?: string | undefined;
  messageId?: string | undefined;
  type?: string | undefined;
  correlationId?: string | undefined;
  appId?: string | undefined;
  timestamp?: number | undefined;
  deliveryMode?: number | boolean | undefined;
}

/** A message delivered by `consume` or fetched by `get`, or returned by the broker. */
export interface AmqpMessage {
  readonly content: Buffer;
  readonly fields: { readonly deliveryTag: number; readonly redelivered: boolean; readonly exchange: string; readonly routingKey: string };
  readonly properties: AmqpProperties;
}

/** Options of a publish, as amqplib takes them. */
export interface AmqpPublishOptions {
  persistent?: boolean;
  mandatory?: boolean;
  headers?: Record<string, unknown>;
  contentType?: string;
  messageId?: string;
  type?: string;
  correlationId?: string;
  appId?: string;
  timestamp?: number;
}

/** The channel operations this package uses. */
export interface AmqpChannel extends AmqpEmitter {
  close(): Promise<void>;
  assertQueue(queue: string, options?: { durable?: boolean; arguments?: Record<string, unknown> }): Promise<AmqpQueueReply>;
  checkQueue(queue: string): Promise<AmqpQueueReply>;
  deleteQueue(queue: string): Promise<unknown>;
  assertExchange(exchange: string, type: string, options?: { durable?: boolean; arguments?: Record<string, unknown> }): Promise<unknown>;
  bindQueue(queue: string, source: string, pattern: string): Promise<unknown>;
  bindExchange(destination: string, source: string, pattern: string): Promise<unknown>;
  consume(
    queue: string,
    onMessage: (message: AmqpMessage | null) => void,
    options?: { noAck?: boolean; exclusive?: boolean; consumerTag?: string },
  ): Promise<{ consumerTag: string }>;
  cancel(consumerTag: string): Promise<unknown>;
  get(queue: string, options?: { noAck?: boolean }): Promise<AmqpMessage | false>;
  ack(message: AmqpMessage, allUpTo?: boolean): void;
  nack(message: AmqpMessage, allUpTo?: boolean, requeue?: boolean): void;
  prefetch(count: number, global?: boolean): Promise<unknown>;
}

/** A channel in confirm mode: `publish` takes a callback called once the broker acks or nacks. */
export interface AmqpConfirmChannel extends AmqpChannel {
  publish(exchange: string, routingKey: string, content: Buffer, options: AmqpPublishOptions, callback: (error: unknown) => void): boolean;
}

/**
 * An amqplib connection: `ChannelModel` from `connect(url)`, or `RecoveringChannelModel` from
 * `connect(url, { recovery: true })` (which reconnects by itself and emits `connect` / `disconnect`).
 */
export interface AmqpConnection extends AmqpEmitter {
  createChannel(): Promise<AmqpChannel>;
  createConfirmChannel(): Promise<AmqpConfirmChannel>;
  close(): Promise<void>;
}
