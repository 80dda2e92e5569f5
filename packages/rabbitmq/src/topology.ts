import { ErrorCodes, errorMessage, isMailroomError, type Logger, MailroomError } from '@mailroom/core';
import { backoff, sleep } from '@mailroom/core/internal';
import type { AmqpChannel } from './amqp-types.js';
import type { ConnectionSupervisor } from './connection-supervisor.js';
import { RabbitMqErrorCodes } from './errors.js';
import {
  canScheduleEvent,
  DELAY_LEVELS,
  delayQueueArguments,
  deliverPattern,
  endpointQueueArguments,
  existingDeliveryLimit,
  groupSizeArguments,
  levelPatterns,
  ownQueueArguments,
  scheduledEventPattern,
  type TopologyNames,
} from './names.js';
import type { RabbitMqQueueType } from './options.js';

/**
 * Declares exchanges, queues and bindings on a channel of its own, each at most once per
 * connection generation (they are durable; after a reconnect they are declared again in case the
 * broker lost or someone deleted them). A declaration that conflicts with what exists fails fast
 * with `MAILROOM_ERR_RABBITMQ_TOPOLOGY_MISMATCH`; a lost connection is waited out until the deadline.
 */
export class Topology {
  private channel: AmqpChannel | undefined;
  private opening: Promise<AmqpChannel> | undefined;
  private generation = 0;
  private readonly done = new Set<string>();
  private readonly running = new Map<string, Promise<void>>();
  /** The delivery limit of endpoint queues that existed with another one (declared before the option, or with another value). */
  private readonly existingLimits = new Map<string, number | undefined>();

  constructor(
    private readonly supervisor: ConnectionSupervisor,
    readonly names: TopologyNames,
    private readonly queueType: RabbitMqQueueType,
    private readonly log: Logger,
    private readonly deliveryLimit?: number,
    /** Quorum group size of every queue in a cluster; undefined on a single node. */
    private readonly replicas?: number,
  ) {}

  /** The topic exchange events are published to. */
  eventsExchange(deadline: number): Promise<void> | undefined {
    return this.declared('x:events') ? undefined : this.once('x:events', deadline, (ch) => ch.assertExchange(this.names.events, 'topic', { durable: true }));
  }

  /**
   * An endpoint's queue (quorum or classic, with RabbitMQ's own dead-lettering into the error queue).
   * The error queue is declared first: RabbitMQ drops what it dead-letters to a queue that does not exist.
   */
  async endpointQueue(queue: string, deadline: number): Promise<void> {
    await this.ownQueue(this.names.errorQueue, deadline);
    for (;;) {
      const limit = this.existingLimits.has(queue) ? this.existingLimits.get(queue) : this.deliveryLimit;
      try {
        await this.once(`q:${queue}`, deadline, (ch) =>
          ch.assertQueue(queue, {
            durable: true,
            arguments: { ...endpointQueueArguments(this.queueType, this.names.errorQueue, limit), ...groupSizeArguments(this.replicas) },
          }),
        );
        return;
      } catch (error) {
        // A queue declared with another delivery limit (or none, by an older version) keeps it: x-delivery-limit cannot change on a declaration.
        const existing = this.existingLimits.has(queue) ? undefined : existingDeliveryLimit(errorMessage((error as Error)?.cause ?? error));
        if (existing === undefined) throw error;
        this.existingLimits.set(queue, existing.limit);
        this.log.warn(
          { queue, existing: existing.limit ?? 'none', wanted: this.deliveryLimit },
          `queue ${queue} exists with another x-delivery-limit; it keeps its own (set a "delivery-limit" policy to change it)`,
        );
      }
    }
  }

  /**
   * Binds an endpoint's queue to the events it handles and to the delay-deliver exchange (for its
   * delayed retries and scheduled commands, and for the scheduled events of the types it handles).
   */
  async bindEndpoint(queue: string, events: readonly string[], deadline: number): Promise<void> {
    await this.endpointQueue(queue, deadline);
    await this.eventsExchange(deadline);
    await this.deliverExchange(deadline);
    await this.once(`b:${queue}:deliver`, deadline, (ch) => ch.bindQueue(queue, this.names.delayDeliver, deliverPattern(queue)));
    for (const type of events) {
      await this.once(`b:${queue}:event:${type}`, deadline, (ch) => ch.bindQueue(queue, this.names.events, type));
      // Scheduled events of the type come out of the delay levels to the delay-deliver exchange.
      if (canScheduleEvent(type))
        await this.once(`b:${queue}:scheduled:${type}`, deadline, (ch) => ch.bindQueue(queue, this.names.delayDeliver, scheduledEventPattern(type)));
    }
  }

  /** The delay levels 0..`topLevel`, each an exchange and a queue whose TTL is its level's delay. */
  async delayLevels(topLevel: number, deadline: number): Promise<void> {
    await this.deliverExchange(deadline);
    for (let level = 0; level <= Math.min(topLevel, DELAY_LEVELS - 1); level++) {
      const name = this.names.delayLevel(level);
      const next = level === 0 ? this.names.delayDeliver : this.names.delayLevel(level - 1);
      await this.once(`delay:${level}`, deadline, async (ch) => {
        const { wait, skip } = levelPatterns(level);
        await ch.assertExchange(name, 'topic', { durable: true });
        await ch.assertQueue(name, { durable: true, arguments: { ...delayQueueArguments(level, this.queueType, next), ...groupSizeArguments(this.replicas) } });
        await ch.bindQueue(name, name, wait);
        await ch.bindExchange(next, name, skip);
      });
    }
  }

  /** A durable queue of the transport's own (error queue, registry, locks): classic on a single node, quorum in a cluster (`replicas`). */
  ownQueue(queue: string, deadline: number): Promise<void> {
    return this.once(`q:${queue}`, deadline, (ch) => ch.assertQueue(queue, { durable: true, arguments: ownQueueArguments(this.replicas) }));
  }

  /** Forgets every declaration, so each is made again on next use (RabbitMQ said something it needed does not exist). */
  reset(): void {
    this.done.clear();
  }

  /** Forgets what was declared for `queue`, so the next call declares it again (after the broker cancelled its consumer). */
  forget(queue: string): void {
    for (const key of [...this.done]) if (key === `q:${queue}` || key.startsWith(`b:${queue}:`)) this.done.delete(key);
  }

  /**
   * Runs `work` on the topology channel, retrying after channel or connection loss until `deadline`.
   * Maps RabbitMQ's refusals to typed errors.
   */
  async run<T>(what: string, deadline: number, work: (channel: AmqpChannel) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const channel = await this.open(deadline);
      try {
        return await work(channel);
      } catch (error) {
        const refused = refusal(error, what);
        if (refused) throw refused;
        if (isMailroomError(error)) throw error;
        if (Date.now() >= deadline) throw this.supervisor.unavailableError();
        this.log.debug({ error: errorMessage(error), what }, 'declaring failed; retrying');
        await sleep(Math.min(backoff(attempt, 50, 1000), Math.max(0, deadline - Date.now())));
      }
    }
  }

  /** Closes the topology channel. */
  async close(): Promise<void> {
    const channel = this.channel;
    this.channel = undefined;
    await channel?.close().catch(() => undefined);
  }

  private deliverExchange(deadline: number): Promise<void> {
    return this.once('x:deliver', deadline, (ch) => ch.assertExchange(this.names.delayDeliver, 'topic', { durable: true }));
  }

  /** True when `key` was declared on the current connection (a new connection forgets every declaration). */
  private declared(key: string): boolean {
    if (this.generation !== this.supervisor.generation) {
      this.generation = this.supervisor.generation;
      this.done.clear();
    }
    return this.done.has(key);
  }

  private async once(key: string, deadline: number, work: (channel: AmqpChannel) => Promise<unknown>): Promise<void> {
    if (this.declared(key)) return;
    let running = this.running.get(key);
    if (!running) {
      const generation = this.generation;
      running = this.run(key, deadline, work).then(() => {
        if (generation === this.generation) this.done.add(key);
      });
      this.running.set(key, running);
      void running.finally(() => this.running.delete(key)).catch(() => undefined);
    }
    await running;
  }

  private async open(deadline: number): Promise<AmqpChannel> {
    if (this.channel) return this.channel;
    this.opening ??= this.supervisor.createChannel(deadline).then((channel) => {
      channel.on('close', () => {
        if (this.channel === channel) this.channel = undefined;
      });
      this.channel = channel;
      return channel;
    });
    try {
      return await this.opening;
    } finally {
      this.opening = undefined;
    }
  }
}

/** A typed error for RabbitMQ refusing a declaration, or undefined for a transient failure. */
export function refusal(error: unknown, what: string): MailroomError | undefined {
  const message = errorMessage(error);
  if (/PRECONDITION[-_]FAILED/.test(message)) {
    return new MailroomError(
      RabbitMqErrorCodes.TOPOLOGY_MISMATCH,
      `RabbitMQ refused ${describe(what)}: ${detail(message)}. It exists with other settings: set the transport's queueType (and replicas) to match it, or delete it if it holds nothing you need`,
      { cause: error },
    );
  }
  if (/ACCESS[-_]REFUSED/.test(message)) {
    return new MailroomError(
      RabbitMqErrorCodes.ACCESS_REFUSED,
      `RabbitMQ refused ${describe(what)}: ${detail(message)}. Give the user configure, write and read permissions on the vhost`,
      { cause: error },
    );
  }
  if (/NOT[-_]FOUND/.test(message)) {
    return new MailroomError(ErrorCodes.TRANSPORT_UNAVAILABLE, `RabbitMQ could not find what ${describe(what)} needs: ${detail(message)}`, { cause: error });
  }
  return undefined;
}

function describe(what: string): string {
  return what.startsWith('q:') ? `to declare queue ${what.slice(2)}` : `to declare ${what}`;
}

function detail(message: string): string {
  const match = /with message "([^"]*)"/.exec(message);
  return match?.[1] ?? message;
}
