import {
  type ConnectOptions,
  type DeliveryHandler,
  ErrorCodes,
  errorMessage,
  MailroomError,
  type OutgoingMessage,
  type QueueInfo,
  type Route,
  type SubscribeOptions,
  type Subscription,
  type Transport,
  type TransportCapabilities,
  type TransportHealth,
} from '@mailroom/core';
import { scheduledDelayMs, settleWithin } from '@mailroom/core/internal';
import type { AmqpChannel, AmqpPublishOptions } from './amqp-types.js';
import { ConnectionSupervisor } from './connection-supervisor.js';
import { RabbitMqDeadLetterQueue } from './dead-letter-queue.js';
import { type EndpointRecord, EndpointRegistry } from './endpoint-registry.js';
import { assertPublishableHeaders } from './headers.js';
import { assertQueueName, canScheduleEvent, MAX_DELAY_MS, scheduledEventTail, type TopologyNames, topologyNames } from './names.js';
import { type RabbitMqTransportOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { Outbound } from './outbound.js';
import { Publisher } from './publisher.js';
import { RabbitMqSubscription } from './rabbitmq-subscription.js';
import { Topology } from './topology.js';

/**
 * What the RabbitMQ transport guarantees. `delayPrecisionMs` was measured on RabbitMQ 3.10 (see
 * docs/rabbitmq.md): a delay is rounded up to the 10 ms unit, and each delay level it waits in adds
 * a few milliseconds of TTL expiry. Scheduled messages go through the same delay levels, so they
 * have the same precision and the same maximum ({@link MAX_DELAY_MS}, about 497 days); a message in
 * a delay queue cannot be taken out, so the transport has no `cancelScheduled`.
 */
export const rabbitMqCapabilities: TransportCapabilities = Object.freeze({
  durable: true,
  crossProcess: true,
  delayedRetry: true,
  deadLetterQueue: true,
  delayPrecisionMs: 200,
  maxScheduleDelayMs: MAX_DELAY_MS,
});

/** How old the registry record of an endpoint whose queue no longer exists must be before `queues()` drops it. */
const PRUNE_AFTER_MS = 10 * 60_000;

/** The RabbitMQ transport: a Mailroom {@link Transport} plus the names of its topology. */
export interface RabbitMqTransport extends Transport {
  readonly name: 'rabbitmq';
  /** The names of Mailroom's own exchanges and queues in this transport's namespace. */
  readonly topology: TopologyNames;
  /** The queue of an endpoint (the endpoint name unless `queueName` says otherwise). */
  queueOf(endpoint: string): string;
}

/**
 * Creates the RabbitMQ transport over a URL (it then owns a connection that reconnects with
 * backoff) or over your own amqplib connection. Guarantees: `publish` resolves only once RabbitMQ
 * confirmed the message, and waits out an outage up to `unavailableTimeoutMs`; consumers come back
 * by themselves after connection or channel loss and broker-initiated cancels; dead letters keep
 * headers and body byte for byte. Rejects with `MAILROOM_ERR_TRANSPORT_CONFIG` / `_URL` for bad
 * options, `MAILROOM_ERR_RABBITMQ_ACCESS_REFUSED` for wrong credentials or vhost, and
 * `MAILROOM_ERR_TRANSPORT_UNAVAILABLE` when the broker does not answer within `connectTimeoutMs`.
 */
export async function createRabbitMqTransport(options: RabbitMqTransportOptions): Promise<RabbitMqTransport> {
  const resolved = resolveOptions(options);
  const supervisor = resolved.connection ? ConnectionSupervisor.adopt(resolved.connection, resolved.logger) : await ConnectionSupervisor.open(resolved);
  return new RabbitMqTransportImpl(resolved, supervisor);
}

/**
 * Creates the RabbitMQ transport for an `amqp://` or `amqps://` URL: the entry point `connectTransport`
 * loads. `options` are {@link RabbitMqTransportOptions} other than `url` and `connection`.
 */
export function createTransportFromUrl(url: string, options: ConnectOptions = {}): Promise<RabbitMqTransport> {
  return createRabbitMqTransport({ ...(options as RabbitMqTransportOptions), url });
}

class RabbitMqTransportImpl implements RabbitMqTransport {
  readonly name = 'rabbitmq' as const;
  readonly capabilities = rabbitMqCapabilities;
  readonly topology: TopologyNames;
  readonly deadLetters: RabbitMqDeadLetterQueue;
  private readonly declarer: Topology;
  private readonly publisher: Publisher;
  private readonly outbound: Outbound;
  private readonly registry: EndpointRegistry;
  private readonly subscriptions = new Set<RabbitMqSubscription>();
  private readonly local = new Map<string, Omit<EndpointRecord, 'updatedAt'>>();
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly supervisor: ConnectionSupervisor,
  ) {
    const log = options.logger;
    this.topology = topologyNames(options.namespace);
    this.declarer = new Topology(supervisor, this.topology, options.queueType, log, options.deliveryLimit, options.replicas);
    this.publisher = new Publisher(supervisor, options, log, () => this.declarer.reset());
    this.outbound = new Outbound(this.declarer, this.publisher, options.envelopeHeaders);
    const shared = {
      supervisor,
      topology: this.declarer,
      outbound: this.outbound,
      names: this.topology,
      lockTimeoutMs: options.lockTimeoutMs,
      unavailableTimeoutMs: options.unavailableTimeoutMs,
    };
    this.deadLetters = new RabbitMqDeadLetterQueue({ ...shared, endpointOf: (queue) => this.endpointOf(queue) });
    this.registry = new EndpointRegistry(shared);
  }

  queueOf(endpoint: string): string {
    const queue = this.options.queueName(endpoint);
    assertQueueName(queue, endpoint);
    return queue;
  }

  async publish(message: OutgoingMessage): Promise<void> {
    this.assertOpen();
    if (!message || typeof message !== 'object' || !(message.body instanceof Uint8Array) || typeof message.headers !== 'object' || !message.route) {
      throw new MailroomError(ErrorCodes.TRANSPORT_CONFIG, 'publish() takes { route, headers, body: Uint8Array }');
    }
    assertPublishableHeaders(message.headers);
    const deadline = Date.now() + this.options.unavailableTimeoutMs;
    const content = Buffer.from(message.body);
    const properties = this.outbound.properties({ ...message.headers });
    const delayMs = scheduledDelayMs(message);
    if (delayMs > 0) {
      await this.publishScheduled(message.route, delayMs, content, properties, deadline);
      return;
    }
    if (message.route.kind === 'command') {
      await this.outbound.toQueue(this.queueOf(message.route.destination), content, properties, deadline);
      return;
    }
    await this.outbound.toEvents(message.route.type, content, properties, deadline);
  }

  /**
   * A scheduled message goes through the delay levels of delayed retries. A command waits for its
   * destination queue (declared and bound first, so it exists even if that endpoint never started);
   * an event waits under its type and is then fanned out by the delay-deliver exchange to the queues
   * bound to the type's scheduled pattern at that time (every subscriber of the type).
   */
  private async publishScheduled(route: Route, delayMs: number, content: Buffer, properties: AmqpPublishOptions, deadline: number): Promise<void> {
    if (route.kind === 'command') {
      const queue = this.queueOf(route.destination);
      await this.declarer.bindEndpoint(queue, [], deadline);
      await this.outbound.toDelay(queue, delayMs, content, properties, deadline);
      return;
    }
    if (!canScheduleEvent(route.type)) {
      throw new MailroomError(
        ErrorCodes.TRANSPORT_PUBLISH_REJECTED,
        `RabbitMQ cannot schedule events of type ${route.type}: the type is too long for a delay routing key (255 bytes with 64 bytes of delay words)`,
      );
    }
    await this.outbound.toDelay(scheduledEventTail(route.type), delayMs, content, properties, deadline);
  }

  async subscribe(options: SubscribeOptions, handler: DeliveryHandler): Promise<Subscription> {
    this.assertOpen();
    checkSubscribeOptions(options, handler);
    const queue = this.queueOf(options.endpoint);
    const subscription = new RabbitMqSubscription(
      {
        supervisor: this.supervisor,
        topology: this.declarer,
        outbound: this.outbound,
        errorQueue: this.topology.errorQueue,
        unavailableTimeoutMs: this.options.unavailableTimeoutMs,
        reconnectInitialDelayMs: this.options.reconnectInitialDelayMs,
        reconnectMaxDelayMs: this.options.reconnectMaxDelayMs,
        queueType: this.options.queueType,
        log: this.options.logger.child({ endpoint: options.endpoint }),
      },
      options,
      queue,
      handler,
      () => this.subscriptions.delete(subscription),
    );
    this.subscriptions.add(subscription);
    try {
      await subscription.start();
    } catch (error) {
      await subscription.close();
      throw error;
    }
    const record = { endpoint: options.endpoint, queue, events: [...new Set(options.events)], commands: [...new Set(options.commands)] };
    this.local.set(options.endpoint, record);
    await this.registry.register(record).catch((error: unknown) => {
      this.options.logger.warn(
        { error: errorMessage(error), endpoint: options.endpoint },
        'could not record the endpoint in the registry; queues() may miss it elsewhere',
      );
    });
    return subscription;
  }

  async queues(): Promise<QueueInfo[]> {
    this.assertOpen();
    const records = new Map<string, Omit<EndpointRecord, 'updatedAt'>>();
    for (const record of await this.registry.read()) records.set(record.endpoint, record);
    for (const [endpoint, record] of this.local) records.set(endpoint, record);
    const deadLetters = await this.deadLetters.countByEndpoint();
    const deadline = Date.now() + this.options.unavailableTimeoutMs;
    const infos: QueueInfo[] = [];
    const gone: string[] = [];
    let channel: AmqpChannel | undefined;
    try {
      for (const record of [...records.values()].sort((a, b) => a.endpoint.localeCompare(b.endpoint))) {
        channel ??= await this.supervisor.createChannel(deadline);
        try {
          const { messageCount, consumerCount } = await channel.checkQueue(record.queue);
          infos.push({
            endpoint: record.endpoint,
            name: record.queue,
            depth: messageCount,
            inFlight: undefined,
            consumers: consumerCount,
            deadLetters: deadLetters.get(record.endpoint) ?? 0,
            events: record.events,
          });
        } catch (error) {
          channel = undefined; // any failure closes the channel
          if (!/NOT[-_]FOUND/.test(errorMessage(error))) throw this.supervisor.unavailableError();
          if (!this.local.has(record.endpoint)) gone.push(record.endpoint); // the queue was deleted: leave it out
        }
      }
    } finally {
      if (channel) await settleWithin(channel.close(), 2000);
    }
    await this.registry.prune(gone, PRUNE_AFTER_MS).catch(() => undefined);
    return infos;
  }

  health(): TransportHealth {
    if (this.closed) return { connected: false, detail: 'closed' };
    const supervisor = this.supervisor;
    if (supervisor.ready) return { connected: true, detail: 'connected' };
    if (supervisor.isBlocked) return { connected: false, detail: 'blocked by a RabbitMQ resource alarm' };
    return { connected: false, detail: supervisor.usable ? 'reconnecting' : 'connection lost for good' };
  }

  close(): Promise<void> {
    this.closing ??= this.closeNow();
    return this.closing;
  }

  private async closeNow(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
    await this.publisher.close();
    await this.declarer.close();
    await this.supervisor.close();
  }

  private endpointOf(queue: string): string {
    for (const record of this.local.values()) if (record.queue === queue) return record.endpoint;
    return queue;
  }

  private assertOpen(): void {
    if (this.closed) throw new MailroomError(ErrorCodes.TRANSPORT_CLOSED, 'The RabbitMQ transport is closed');
  }
}

function checkSubscribeOptions(options: SubscribeOptions, handler: DeliveryHandler): void {
  const fail = (message: string) => new MailroomError(ErrorCodes.TRANSPORT_CONFIG, message);
  if (!options || typeof options.endpoint !== 'string' || options.endpoint === '') throw fail('subscribe() needs an endpoint name');
  if (!Array.isArray(options.events) || !options.events.every((type) => typeof type === 'string' && type !== '' && !/[*#]/.test(type))) {
    throw fail(`subscribe(${options.endpoint}): events must be a list of message types (no "*" or "#")`);
  }
  if (!Array.isArray(options.commands)) throw fail(`subscribe(${options.endpoint}): commands must be a list of message types`);
  if (!Number.isSafeInteger(options.concurrency) || options.concurrency < 1 || options.concurrency > 65_535) {
    throw fail(
      `subscribe(${options.endpoint}): concurrency must be a whole number from 1 to 65535 (it is RabbitMQ's prefetch), got ${String(options.concurrency)}`,
    );
  }
  if (typeof handler !== 'function') throw fail(`subscribe(${options.endpoint}): the handler must be a function`);
}
