import {
  DEFAULT_MAX_DELIVERIES,
  type Delivery,
  type DeliveryHandler,
  ErrorCodes,
  errorMessage,
  isMailroomError,
  type Logger,
  MailroomError,
  type SubscribeOptions,
  type Subscription,
} from '@mailroom/core';
import { backoff, deliveryLimitRequest, settleWithin, sleep } from '@mailroom/core/internal';
import { AckBatcher } from './ack-batching.js';
import type { AmqpChannel, AmqpMessage } from './amqp-types.js';
import type { ConnectionSupervisor } from './connection-supervisor.js';
import { createDelivery, type RabbitMqDelivery } from './delivery.js';
import type { RabbitMqQueueType } from './options.js';
import type { Outbound } from './outbound.js';
import { refusal, type Topology } from './topology.js';

/** What a subscription needs from its transport. */
export interface SubscriptionContext {
  readonly supervisor: ConnectionSupervisor;
  readonly topology: Topology;
  readonly outbound: Outbound;
  readonly errorQueue: string;
  readonly unavailableTimeoutMs: number;
  readonly reconnectInitialDelayMs: number;
  readonly reconnectMaxDelayMs: number;
  /** Classic queues do not count redeliveries: the subscription counts them itself (see `receive`). */
  readonly queueType: RabbitMqQueueType;
  readonly log: Logger;
}

/**
 * One consumer of an endpoint's queue on a channel of its own, with prefetch = the endpoint's
 * concurrency. Guarantees: it declares the queue and its bindings before consuming; when its
 * channel or the connection is lost, or RabbitMQ cancels the consumer (the queue was deleted,
 * amqplib #176), it declares them again and resumes consuming, with exponential backoff, until
 * closed; `close()` never waits for handlers, and RabbitMQ returns unsettled messages to the queue.
 * A message delivered more than `maxDeliveries` times never reaches the handler: it is parked in
 * the error queue with `MAILROOM_ERR_TRANSPORT_DELIVERY_LIMIT` (by RabbitMQ's own dead-lettering
 * when even the safe-form copy cannot be published).
 */
export class RabbitMqSubscription implements Subscription {
  private channel: AmqpChannel | undefined;
  private consumerTag: string | undefined;
  private readonly dead = new WeakSet<AmqpChannel>();
  /** The acknowledgements of each consuming channel, sent once per tick (see {@link AckBatcher}). */
  private readonly acks = new WeakMap<AmqpChannel, AckBatcher>();
  private paused = false;
  private closed = false;
  private recovering = false;
  private readonly maxDeliveries: number;

  constructor(
    private readonly context: SubscriptionContext,
    private readonly options: SubscribeOptions,
    readonly queue: string,
    private readonly handler: DeliveryHandler,
    private readonly onClose: () => void,
  ) {
    this.maxDeliveries = options.maxDeliveries ?? DEFAULT_MAX_DELIVERIES;
  }

  /**
   * Declares and starts consuming. Retries transient failures (a lost channel) until
   * `unavailableTimeoutMs`; rejects with a typed error (`MAILROOM_ERR_RABBITMQ_TOPOLOGY_MISMATCH`,
   * `_ACCESS_REFUSED`, `MAILROOM_ERR_TRANSPORT_UNAVAILABLE`...).
   */
  async start(): Promise<void> {
    const deadline = Date.now() + this.context.unavailableTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.setup(deadline);
        return;
      } catch (error) {
        const typed = isMailroomError(error) ? error : refusal(error, `to consume queue ${this.queue}`);
        if (typed && !isMailroomError(typed, ErrorCodes.TRANSPORT_UNAVAILABLE)) throw typed;
        if (Date.now() >= deadline || !this.context.supervisor.usable) {
          throw typed ?? new MailroomError(ErrorCodes.TRANSPORT_UNAVAILABLE, `Cannot consume queue ${this.queue}: ${errorMessage(error)}`, { cause: error });
        }
        await sleep(backoff(attempt, this.context.reconnectInitialDelayMs, this.context.reconnectMaxDelayMs));
      }
    }
  }

  /** Stops taking new deliveries; deliveries handed out can still be settled. Idempotent. */
  async pause(): Promise<void> {
    this.paused = true;
    const { channel, consumerTag } = this;
    this.consumerTag = undefined;
    if (channel && consumerTag && !this.dead.has(channel)) await settleWithin(channel.cancel(consumerTag), 2000);
  }

  /** Stops consuming and closes the channel, so RabbitMQ returns every unsettled delivery to the queue. Idempotent; never waits for handlers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.paused = true;
    this.onClose();
    const channel = this.channel;
    this.channel = undefined;
    this.consumerTag = undefined;
    if (channel) {
      this.acks.get(channel)?.flush(); // acknowledgements already given leave before the channel closes
      this.dead.add(channel);
      await settleWithin(channel.close(), 2000);
    }
  }

  private async setup(deadline: number): Promise<void> {
    const { topology, supervisor } = this.context;
    await topology.bindEndpoint(this.queue, this.options.events, deadline);
    let channel = this.channel;
    if (!channel || this.dead.has(channel)) {
      channel = await supervisor.createChannel(deadline);
      const opened = channel;
      this.acks.set(
        opened,
        new AckBatcher(opened, (count, error) =>
          this.context.log.warn(
            { error: errorMessage(error), queue: this.queue, count },
            'acknowledgements not sent: the channel closed; RabbitMQ will deliver those messages again',
          ),
        ),
      );
      opened.on('close', () => this.lost(opened));
      this.channel = opened;
      await this.closeIfClosed(opened);
      await opened.prefetch(this.options.concurrency, false);
    }
    if (this.paused) return;
    const consuming = channel;
    const { consumerTag } = await consuming.consume(this.queue, (message) => this.receive(consuming, message), { noAck: false });
    this.consumerTag = consumerTag;
    await this.closeIfClosed(consuming);
    if (this.paused && !this.closed) await this.pause();
  }

  /** close() may have run while a channel was being opened: then that channel must not live on. */
  private async closeIfClosed(channel: AmqpChannel): Promise<void> {
    if (!this.closed) return;
    this.dead.add(channel);
    await settleWithin(channel.close(), 2000);
    throw new MailroomError(ErrorCodes.TRANSPORT_CLOSED, `The subscription to ${this.queue} was closed`);
  }

  private receive(channel: AmqpChannel, message: AmqpMessage | null): void {
    if (message === null) {
      if (channel !== this.channel) return;
      this.consumerTag = undefined;
      this.context.topology.forget(this.queue);
      this.recover(`RabbitMQ cancelled the consumer of ${this.queue} (the queue was deleted or its leader moved)`);
      return;
    }
    const acks = this.acks.get(channel);
    acks?.received(message); // before anything else: a message left unsettled must never be covered by a `multiple` ack
    if (this.paused || this.channel !== channel || !acks) return; // left unsettled: RabbitMQ returns it when the channel closes
    const delivery = createDelivery(
      {
        endpoint: this.options.endpoint,
        queue: this.queue,
        errorQueue: this.context.errorQueue,
        outbound: this.context.outbound,
        unavailableTimeoutMs: this.context.unavailableTimeoutMs,
        log: this.context.log,
        isLive: (of) => of === this.channel && !this.dead.has(of),
      },
      channel,
      message,
      acks,
    );
    if (delivery.attempt > this.maxDeliveries) {
      this.park(delivery);
      return;
    }
    if (this.context.queueType === 'classic' && message.fields.redelivered) {
      this.count(delivery);
      return;
    }
    void (async () => {
      try {
        await this.handler(delivery);
      } catch (error) {
        this.context.log.error(
          { error: errorMessage(error), queue: this.queue },
          'a delivery handler threw; the message stays unsettled until the channel closes',
        );
      }
    })();
  }

  /** The delivery bound: dead-letters the message without handing it to the handler. */
  private park(delivery: Delivery): void {
    const request = deliveryLimitRequest(delivery.attempt, this.maxDeliveries, delivery.firstFailureAt);
    this.context.log.error(
      { code: request.reason, queue: this.queue, messageId: delivery.headers['ce-id'], attempt: delivery.attempt },
      'message delivered more than maxDeliveries times: parked in the error queue without running a handler',
    );
    delivery.deadLetter(request).catch((error) => {
      this.context.log.error({ code: ErrorCodes.DEAD_LETTER_FAILED, err: error, queue: this.queue }, 'could not park the message; RabbitMQ delivers it again');
    });
  }

  /**
   * A classic queue marks a redelivery (the consumer died, its channel closed) without counting it:
   * the message goes back as a copy carrying its delivery count, so the count grows with every
   * redelivery and the delivery bound (and the endpoint's crash-loop guard) can see it. The copy is
   * delivered again at once, with the same attempt; the handler does not run for the original.
   */
  private count(delivery: RabbitMqDelivery): void {
    delivery.recount().catch((error) => {
      this.context.log.warn({ err: error, queue: this.queue }, 'could not count a redelivery; RabbitMQ delivers the message again');
    });
  }

  private lost(channel: AmqpChannel): void {
    this.dead.add(channel);
    this.acks.get(channel)?.close();
    if (this.channel !== channel) return;
    this.channel = undefined;
    this.consumerTag = undefined;
    this.recover(`the channel consuming ${this.queue} closed`);
  }

  private recover(reason: string): void {
    if (this.recovering || this.closed || this.paused || !this.context.supervisor.usable) return; // lost for good: nothing to wait for
    this.recovering = true;
    const since = Date.now();
    const { log, supervisor, reconnectInitialDelayMs, reconnectMaxDelayMs } = this.context;
    log.warn({ event: 'consumer-lost', queue: this.queue, reason }, `${reason}; consuming again once possible`);
    void (async () => {
      for (let attempt = 1; !this.closed && !this.paused; attempt++) {
        try {
          await supervisor.waitReady();
          if (this.closed || this.paused) break;
          await this.setup(Date.now() + this.context.unavailableTimeoutMs);
          log.info({ event: 'consumer-resumed', queue: this.queue, afterMs: Date.now() - since }, `consuming ${this.queue} again`);
          break;
        } catch (error) {
          if (this.closed || !supervisor.usable) break;
          if (isMailroomError(error)) log.warn({ error: error.message, queue: this.queue }, 'cannot consume yet; retrying');
          await sleep(backoff(attempt, reconnectInitialDelayMs, reconnectMaxDelayMs));
        }
      }
      this.recovering = false;
      if (!this.closed && !this.paused && (!this.channel || this.consumerTag === undefined)) this.recover('the channel closed again while resuming');
    })();
  }
}
