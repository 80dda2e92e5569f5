import { createDefaultLogger, ErrorCodes, type Logger, MailroomError, redactUrl } from '@mailroom/core';
import type { AmqpConnection } from './amqp-types.js';

/** The queue type of endpoint queues and delay queues. */
export type RabbitMqQueueType = 'quorum' | 'classic';

/**
 * Options of {@link createRabbitMqTransport}. Give either `url` (the transport opens and owns a
 * reconnecting connection) or `connection` (your own amqplib connection, which the transport never
 * closes).
 */
export interface RabbitMqTransportOptions {
  /** `amqp://user:password@host:5672/vhost` or `amqps://...`. The password never appears in logs or errors. */
  url?: string;
  /**
   * Your own amqplib connection. A `RecoveringChannelModel` (`amqplib.connect(url, { recovery: true })`)
   * reconnects and the transport follows it; a plain `ChannelModel` that closes leaves the transport
   * unavailable for good.
   */
  connection?: AmqpConnection;
  /**
   * Passed to amqplib's socket with `url`: TLS `ca`, `cert`, `key`, `servername`, `rejectUnauthorized`...
   * `noDelay` defaults to true (Nagle's algorithm off; with it on, a publish or ack can wait ~40 ms).
   */
  socketOptions?: Record<string, unknown>;
  /** Prefix of Mailroom's own exchanges and queues (`<namespace>.events`, `<namespace>.error`...). Default `mailroom`. */
  namespace?: string;
  /** Type of endpoint queues and delay queues. Default `quorum` (replicated, at-least-once dead-lettering); `classic` for single nodes. */
  queueType?: RabbitMqQueueType;
  /**
   * Quorum queues only: RabbitMQ itself dead-letters a message returned to its queue this many
   * times (`x-delivery-limit`; a consumer that died or rejected it), into the error queue with
   * `MAILROOM_ERR_TRANSPORT_DELIVERY_LIMIT`: the broker's bound, behind the transport's own
   * `maxDeliveries` check. Applies to queues this transport creates; an existing queue keeps its
   * own (change it with a `delivery-limit` policy). Default 50.
   */
  deliveryLimit?: number;
  /** The queue name of an endpoint. Default: the endpoint name itself. */
  queueName?: (endpoint: string) => string;
  /** How long a publish waits for the broker's confirm before `MAILROOM_ERR_TRANSPORT_CONFIRM_TIMEOUT`. Default 15 000 ms. */
  confirmTimeoutMs?: number;
  /** How long an operation waits for a lost, blocked or not yet open connection before `MAILROOM_ERR_TRANSPORT_UNAVAILABLE`. Default 30 000 ms. */
  unavailableTimeoutMs?: number;
  /** How long creating the transport from a URL waits for the first connection. Default 15 000 ms. */
  connectTimeoutMs?: number;
  /** First reconnect delay after a lost connection or channel; doubles up to `reconnectMaxDelayMs`. Default 100 ms. */
  reconnectInitialDelayMs?: number;
  /** Longest reconnect delay. Default 2000 ms. */
  reconnectMaxDelayMs?: number;
  /** AMQP heartbeat asked for with `url` (unless the URL sets `heartbeat`): a dead peer is noticed after about twice this. Default 10 s. */
  heartbeatSeconds?: number;
  /** Most publishes of this transport awaiting their confirm at once; more wait their turn. Default 1000. */
  maxUnconfirmed?: number;
  /** How long a dead-letter or registry operation waits for another process's lock. Default 10 000 ms. */
  lockTimeoutMs?: number;
  /** Shown as the connection name in RabbitMQ's management UI. Default `mailroom`. */
  connectionName?: string;
  /** A pino-compatible logger; default pino at `MAILROOM_LOG_LEVEL`. */
  logger?: Logger;
}

/** The options with every default filled in and checked. */
export interface ResolvedOptions {
  readonly url: string | undefined;
  readonly connection: AmqpConnection | undefined;
  readonly socketOptions: Record<string, unknown>;
  readonly namespace: string;
  readonly queueType: RabbitMqQueueType;
  readonly deliveryLimit: number;
  readonly queueName: (endpoint: string) => string;
  readonly confirmTimeoutMs: number;
  readonly unavailableTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly reconnectInitialDelayMs: number;
  readonly reconnectMaxDelayMs: number;
  readonly heartbeatSeconds: number;
  readonly maxUnconfirmed: number;
  readonly lockTimeoutMs: number;
  readonly connectionName: string;
  readonly logger: Logger;
}

const NAMESPACE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * Checks the options and fills in defaults. Throws `MAILROOM_ERR_TRANSPORT_CONFIG` naming the bad
 * option, or `MAILROOM_ERR_TRANSPORT_URL` for a malformed URL (with its password redacted).
 */
export function resolveOptions(options: RabbitMqTransportOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw configError('createRabbitMqTransport needs an options object with url (amqp://...) or connection (your amqplib connection)');
  }
  const { url, connection } = options;
  if ((url === undefined) === (connection === undefined)) {
    throw configError('createRabbitMqTransport: give exactly one of url (amqp://user:password@host) or connection (an amqplib connection)');
  }
  if (connection !== undefined && (typeof connection !== 'object' || typeof connection.createConfirmChannel !== 'function')) {
    throw configError('createRabbitMqTransport: connection must be an amqplib connection (the result of amqplib.connect(url))');
  }
  const namespace = options.namespace ?? 'mailroom';
  if (typeof namespace !== 'string' || !NAMESPACE.test(namespace)) {
    throw configError(`namespace must be 1-64 letters, digits, "_", "." or "-", starting with a letter or digit; got ${JSON.stringify(namespace)}`);
  }
  const queueType = options.queueType ?? 'quorum';
  if (queueType !== 'quorum' && queueType !== 'classic') throw configError(`queueType must be "quorum" or "classic", got ${JSON.stringify(queueType)}`);
  if (options.queueName !== undefined && typeof options.queueName !== 'function') {
    throw configError('queueName must be a function from endpoint name to queue name');
  }
  if (options.socketOptions !== undefined && (typeof options.socketOptions !== 'object' || options.socketOptions === null)) {
    throw configError('socketOptions must be an object (TLS ca, cert, key...)');
  }
  if (options.logger !== undefined && typeof options.logger?.child !== 'function') throw configError('logger must be a pino-compatible logger');
  return {
    url: url === undefined ? undefined : checkUrl(url),
    connection,
    socketOptions: options.socketOptions ?? {},
    namespace,
    queueType,
    deliveryLimit: positiveInteger(options.deliveryLimit, 50, 'deliveryLimit'),
    queueName: options.queueName ?? ((endpoint) => endpoint),
    confirmTimeoutMs: positive(options.confirmTimeoutMs, 15_000, 'confirmTimeoutMs'),
    unavailableTimeoutMs: positive(options.unavailableTimeoutMs, 30_000, 'unavailableTimeoutMs'),
    connectTimeoutMs: positive(options.connectTimeoutMs, 15_000, 'connectTimeoutMs'),
    reconnectInitialDelayMs: positive(options.reconnectInitialDelayMs, 100, 'reconnectInitialDelayMs'),
    reconnectMaxDelayMs: positive(options.reconnectMaxDelayMs, 2000, 'reconnectMaxDelayMs'),
    heartbeatSeconds: positive(options.heartbeatSeconds, 10, 'heartbeatSeconds'),
    maxUnconfirmed: positiveInteger(options.maxUnconfirmed, 1000, 'maxUnconfirmed'),
    lockTimeoutMs: positive(options.lockTimeoutMs, 10_000, 'lockTimeoutMs'),
    connectionName: typeof options.connectionName === 'string' && options.connectionName !== '' ? options.connectionName : 'mailroom',
    logger: (options.logger ?? createDefaultLogger()).child({ transport: 'rabbitmq' }),
  };
}

/** Checks an `amqp://` / `amqps://` URL and returns it unchanged. */
function checkUrl(url: unknown): string {
  if (typeof url !== 'string' || url.trim() === '') throw urlError('url must be an amqp:// or amqps:// URL string');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw urlError(`${redactUrl(url)} is not a valid URL: use amqp://user:password@host:5672/vhost`);
  }
  if (parsed.protocol !== 'amqp:' && parsed.protocol !== 'amqps:') {
    throw urlError(`${redactUrl(url)} is not a RabbitMQ URL: the scheme must be amqp:// or amqps://`);
  }
  if (parsed.hostname === '') throw urlError(`${redactUrl(url)} names no host: use amqp://user:password@host:5672/vhost`);
  return url;
}

/** Adds `heartbeat` to the URL's query unless it is there already. */
export function withHeartbeat(url: string, seconds: number): string {
  const parsed = new URL(url);
  if (parsed.searchParams.has('heartbeat')) return url;
  parsed.searchParams.set('heartbeat', String(Math.round(seconds)));
  return parsed.toString();
}

function positive(value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw configError(`${name} must be a number > 0, got ${String(value)}`);
  return value;
}

function positiveInteger(value: unknown, fallback: number, name: string): number {
  const number = positive(value, fallback, name);
  if (!Number.isSafeInteger(number)) throw configError(`${name} must be a whole number >= 1, got ${String(value)}`);
  return number;
}

function configError(message: string): MailroomError {
  return new MailroomError(ErrorCodes.TRANSPORT_CONFIG, message);
}

function urlError(message: string): MailroomError {
  return new MailroomError(ErrorCodes.TRANSPORT_URL, message);
}
