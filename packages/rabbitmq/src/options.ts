import { createDefaultLogger, ErrorCodes, type Logger, MailroomError } from '@mailroom/core';
import { checkNumberOption, POSITIVE, WHOLE_FROM_1 } from '@mailroom/core/internal';
import type { AmqpConnection } from './amqp-types.js';
import type { EnvelopeHeaders } from './headers.js';
import { checkNodeUrl, splitNodeUrls, takeReplicasParam } from './node-urls.js';

/** The queue type of endpoint queues and delay queues. */
export type RabbitMqQueueType = 'quorum' | 'classic';

/**
 * Options of {@link createRabbitMqTransport}. Give either `url` (the transport opens and owns a
 * reconnecting connection) or `connection` (your own amqplib connection, which the transport never
 * closes).
 */
export interface RabbitMqTransportOptions {
  /**
   * `amqp://user:password@host:5672/vhost` or `amqps://...`. The password never appears in logs or errors.
   * For a cluster, name every node: `amqp://user:password@host1:5672,host2:5672,host3:5672/vhost`
   * (credentials, vhost and query shared), or give a list of URLs. The transport connects to the
   * first node that answers and, when the connection is lost, reconnects to the next one in turn.
   */
  url?: string | readonly string[];
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
  /**
   * For a cluster: how many nodes hold a copy of each queue (3 in a 3-node cluster, 3 or 5 in a
   * larger one). Every queue the transport declares is then a quorum queue with this initial group
   * size (`x-quorum-initial-group-size`): endpoint and delay queues, and also the error queue, the
   * endpoint registry and the locks (which are classic queues, living on one node, without it), so
   * nothing the transport keeps depends on one node. Needs `queueType: 'quorum'`. Default: unset,
   * RabbitMQ's own group size for endpoint and delay queues (every node of the cluster on RabbitMQ
   * 3.x) and classic queues for the rest, as suits a single node.
   */
  replicas?: number;
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
  /**
   * How the CloudEvents headers are written (see the RabbitMQ guide, "Wire format"). `compact`
   * (default): five attributes in AMQP properties and three packed into one table entry, less
   * CPU per message in the client and the broker (7-17% more messages per second on a classic queue). `full`: every header its own table entry, the form versions before
   * this one write and the only one they read; keep `full` until every consumer runs this version.
   * Consumers read both forms whatever this says.
   */
  envelopeHeaders?: EnvelopeHeaders;
  /** A pino-compatible logger; default pino at `MAILROOM_LOG_LEVEL`. */
  logger?: Logger;
}

/** The options with every default filled in and checked. */
export interface ResolvedOptions {
  /** One URL per node, in the order given; undefined with `connection`. */
  readonly urls: readonly string[] | undefined;
  readonly connection: AmqpConnection | undefined;
  readonly socketOptions: Record<string, unknown>;
  readonly namespace: string;
  readonly queueType: RabbitMqQueueType;
  readonly deliveryLimit: number;
  readonly replicas: number | undefined;
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
  readonly envelopeHeaders: EnvelopeHeaders;
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
  const fromUrl = url === undefined ? { urls: undefined, replicas: undefined } : nodeUrls(url);
  if (fromUrl.replicas !== undefined && options.replicas !== undefined && fromUrl.replicas !== options.replicas) {
    throw configError(`the URL says replicas=${fromUrl.replicas} but the options say replicas: ${String(options.replicas)}; give it once`);
  }
  const replicas = (options.replicas ?? fromUrl.replicas) === undefined ? undefined : positiveInteger(options.replicas ?? fromUrl.replicas, 1, 'replicas');
  if (replicas !== undefined && queueType !== 'quorum') {
    throw configError(`replicas needs queueType "quorum" (classic queues live on one node), got queueType ${JSON.stringify(queueType)}`);
  }
  if (options.queueName !== undefined && typeof options.queueName !== 'function') {
    throw configError('queueName must be a function from endpoint name to queue name');
  }
  if (options.socketOptions !== undefined && (typeof options.socketOptions !== 'object' || options.socketOptions === null)) {
    throw configError('socketOptions must be an object (TLS ca, cert, key...)');
  }
  const envelopeHeaders = options.envelopeHeaders ?? 'compact';
  if (envelopeHeaders !== 'compact' && envelopeHeaders !== 'full') {
    throw configError(
      `envelopeHeaders must be "compact" (the default) or "full" (while consumers of an older Mailroom version still read these queues), got ${JSON.stringify(envelopeHeaders)}`,
    );
  }
  if (options.logger !== undefined && typeof options.logger?.child !== 'function') throw configError('logger must be a pino-compatible logger');
  return {
    urls: fromUrl.urls,
    connection,
    socketOptions: options.socketOptions ?? {},
    namespace,
    queueType,
    deliveryLimit: positiveInteger(options.deliveryLimit, 50, 'deliveryLimit'),
    replicas,
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
    envelopeHeaders,
    logger: (options.logger ?? createDefaultLogger()).child({ transport: 'rabbitmq' }),
  };
}

/**
 * The URL of every node, from one URL (with one or several hosts) or a list of them, each checked,
 * and the `replicas` their queries give (`?replicas=3`; every URL giving it must agree).
 */
function nodeUrls(url: string | readonly string[]): { urls: string[]; replicas: number | undefined } {
  const given: unknown[] = typeof url === 'string' ? [url] : Array.isArray(url) ? url : [url];
  if (given.length === 0) throw urlError('url must name at least one node: amqp://user:password@host:5672/vhost');
  const replicas = new Set<string>();
  const urls = given.flatMap((one) => {
    if (typeof one !== 'string') return [checkNodeUrl(one)];
    const taken = takeReplicasParam(one);
    if (taken.replicas !== undefined) replicas.add(taken.replicas);
    return splitNodeUrls(taken.url).map(checkNodeUrl);
  });
  if (replicas.size > 1) throw configError(`the URLs give different replicas: ${[...replicas].join(', ')}`);
  const [value] = replicas;
  if (value !== undefined && !/^[1-9][0-9]?$/.test(value)) throw configError(`replicas in the URL must be a whole number >= 1, got ${JSON.stringify(value)}`);
  return { urls, replicas: value === undefined ? undefined : Number(value) };
}

/** Adds `heartbeat` to the URL's query unless it is there already. */
export function withHeartbeat(url: string, seconds: number): string {
  const parsed = new URL(url);
  if (parsed.searchParams.has('heartbeat')) return url;
  parsed.searchParams.set('heartbeat', String(Math.round(seconds)));
  return parsed.toString();
}

function positive(value: unknown, fallback: number, name: string): number {
  return checkNumberOption(value ?? fallback, name, POSITIVE, configError);
}

function positiveInteger(value: unknown, fallback: number, name: string): number {
  return checkNumberOption(positive(value, fallback, name), name, WHOLE_FROM_1, configError);
}

function configError(message: string): MailroomError {
  return new MailroomError(ErrorCodes.TRANSPORT_CONFIG, message);
}

function urlError(message: string): MailroomError {
  return new MailroomError(ErrorCodes.TRANSPORT_URL, message);
}
