import type { DeliveryHandler, Logger, SubscribeOptions, Subscription } from '@mailroom/core';
import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { Subscription as CoreSubscription, NatsConnection } from '@nats-io/nats-core';
import { decodeHeaders, type encodeHeaders } from './header-codec.js';
import { type ConsumerSpec, consumerSpecs, ensureConsumer } from './nats-consumers.js';
import { createNatsDelivery, type TrackedMessage } from './nats-delivery.js';
import type { NatsNames } from './nats-names.js';
import type { RetryStateStore } from './retry-state.js';
import { Slots } from './slots.js';

/** What a subscription needs from its transport. */
export interface SubscriptionContext {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly names: NatsNames;
  readonly ackWaitMs: number;
  readonly retryState: RetryStateStore;
  readonly log: Logger;
  /** Creates missing streams again (after they were deleted or lost). */
  readonly recreateTopology: () => Promise<void>;
  /** Publishes a dead letter of `tracked`; resolves once stored. */
  readonly publishDeadLetter: (tracked: TrackedMessage, headers: ReturnType<typeof encodeHeaders>) => Promise<void>;
}

/**
 * How long one pull request waits at the server (the client's minimum). Short for two reasons:
 * the client retries a failed consumer check after a reconnect only after this long (a stall
 * right after a server restart), and NATS 2.9 keeps serving a pull request until it expires even
 * after its subscriber is gone, so a message given back sooner could land in a dead inbox and
 * wait a whole AckWait.
 */
const PULL_EXPIRES_MS = 1000;

/** Delay of the nak that gives a message back: our own pull requests have expired by then. */
export const GIVE_BACK_DELAY_MS = PULL_EXPIRES_MS + 250;

/** One `consume()` loop over one durable consumer, feeding the subscription's shared slots. */
class ConsumerLoop {
  private messages: ConsumerMessages | undefined;
  private stopped = false;
  private recreating: Promise<void> | undefined;

  constructor(
    private readonly subscription: NatsSubscription,
    private readonly spec: ConsumerSpec,
    private readonly context: SubscriptionContext,
    private readonly batch: number,
  ) {}

  async start(): Promise<void> {
    const consumer = await this.context.js.consumers.get(this.spec.stream, this.spec.name);
    const messages = await consumer.consume({ max_messages: this.batch, expires: PULL_EXPIRES_MS });
    this.messages = messages;
    void this.watch(messages);
    void this.run(messages);
  }

  stop(): void {
    this.stopped = true;
    this.messages?.stop();
  }

  private async run(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const msg of messages) {
        const tracked = this.subscription.track(msg, this.spec);
        if (this.stopped || !(await this.subscription.slots.acquire())) {
          this.subscription.giveBack(tracked);
          continue;
        }
        if (tracked.state !== 'waiting') {
          this.subscription.slots.release();
          continue;
        }
        void this.subscription.dispatch(tracked);
      }
    } catch (error) {
      if (!this.stopped) this.context.log.error({ err: error, consumer: this.spec.name }, 'consumer loop ended with an error');
    }
  }

  /** Recreates the consumer (and streams) when the server lost it, e.g. after a restart without its state: nats.node #570. */
  private async watch(messages: ConsumerMessages): Promise<void> {
    for await (const status of messages.status()) {
      if (this.stopped) return;
      if (status.type === 'consumer_not_found' || status.type === 'consumer_deleted' || status.type === 'stream_not_found') {
        this.context.log.warn({ consumer: this.spec.name, stream: this.spec.stream, status: status.type }, 'consumer is gone; recreating it');
        this.recreating ??= this.recreate().finally(() => {
          this.recreating = undefined;
        });
      } else if (status.type === 'heartbeats_missed') {
        this.context.log.debug({ consumer: this.spec.name, count: status.count }, 'consumer heartbeats missed; the client pulls again');
      }
    }
  }

  private async recreate(): Promise<void> {
    try {
      await this.context.recreateTopology();
      await ensureConsumer(this.context.jsm, this.spec, this.context.ackWaitMs);
    } catch (error) {
      this.context.log.warn({ err: error, consumer: this.spec.name }, 'could not recreate the consumer yet; trying again on the next check');
    }
  }
}

/**
 * A running subscription of one endpoint: a `consume()` loop per durable consumer, all sharing
 * `concurrency` slots, so no more than that many deliveries are unsettled in handlers at once.
 * Unsettled messages (with a handler or waiting for a slot) are kept alive with `working()` every
 * AckWait / 3, so long handlers are not redelivered elsewhere. `close()` naks every unsettled
 * message (another consumer gets it about 1.25 s later) and never waits for handlers.
 */
export class NatsSubscription implements Subscription {
  readonly slots: Slots;
  private readonly tracked = new Set<TrackedMessage>();
  private readonly loops: ConsumerLoop[];
  private readonly heartbeat: NodeJS.Timeout;
  private presence: CoreSubscription | undefined;
  private paused = false;
  private closed = false;

  private constructor(
    private readonly context: SubscriptionContext,
    private readonly options: SubscribeOptions,
    private readonly handler: DeliveryHandler,
    private readonly specs: ConsumerSpec[],
    private readonly onClose: (subscription: NatsSubscription) => void,
  ) {
    this.slots = new Slots(options.concurrency);
    const batch = Math.max(1, Math.min(options.concurrency, 256));
    this.loops = specs.map((spec) => new ConsumerLoop(this, spec, context, batch));
    this.heartbeat = setInterval(() => this.keepAlive(), Math.max(100, Math.floor(context.ackWaitMs / 3)));
    this.heartbeat.unref();
  }

  /** Declares the endpoint's consumers, then starts consuming. Resolves once every consumer pulls. */
  static async start(
    context: SubscriptionContext,
    options: SubscribeOptions,
    handler: DeliveryHandler,
    onClose: (subscription: NatsSubscription) => void,
  ): Promise<NatsSubscription> {
    const specs = consumerSpecs(context.names, options);
    for (const spec of specs) await ensureConsumer(context.jsm, spec, context.ackWaitMs);
    const subscription = new NatsSubscription(context, options, handler, specs, onClose);
    try {
      await Promise.all(subscription.loops.map((loop) => loop.start()));
      subscription.presence = context.nc.subscribe(context.names.presenceSubject(options.endpoint), {
        callback: (_error, msg) => {
          if (!subscription.paused) msg.respond();
        },
      });
    } catch (error) {
      await subscription.close();
      throw error;
    }
    return subscription;
  }

  /** @internal Starts tracking a received message. */
  track(msg: JsMsg, spec: ConsumerSpec): TrackedMessage {
    const type = spec.eventType ?? this.context.names.parseSubject(msg.subject)?.type ?? msg.subject;
    const tracked: TrackedMessage = { msg, endpoint: this.options.endpoint, type, key: `${spec.stream}.${spec.name}.${msg.seq}`, state: 'waiting' };
    this.tracked.add(tracked);
    return tracked;
  }

  /** @internal Returns an unsettled message to the server, redelivered once our pull requests have expired. */
  giveBack(tracked: TrackedMessage): void {
    if (tracked.state !== 'waiting' && tracked.state !== 'handed') return;
    const held = tracked.state === 'handed';
    tracked.state = 'released';
    this.tracked.delete(tracked);
    if (held) this.slots.release();
    try {
      tracked.msg.nak(GIVE_BACK_DELAY_MS);
    } catch {
      // Disconnected: the server redelivers it after AckWait.
    }
  }

  /** @internal Hands a message holding a slot to the handler. */
  async dispatch(tracked: TrackedMessage): Promise<void> {
    tracked.state = 'handed';
    const { msg } = tracked;
    const firstFailureAt = msg.info.deliveryCount > 1 ? await this.context.retryState.firstFailureAt(tracked.key) : undefined;
    if (tracked.state !== 'handed') return;
    const delivery = createNatsDelivery(tracked, decodeHeaders(msg.headers), firstFailureAt, {
      retryState: this.context.retryState,
      publishDeadLetter: this.context.publishDeadLetter,
      settled: (settled) => {
        this.tracked.delete(settled);
        this.slots.release();
      },
    });
    try {
      await this.handler(delivery);
    } catch (error) {
      this.context.log.error(
        { err: error, endpoint: this.options.endpoint },
        'delivery handler threw; the message stays unsettled until it is settled or the subscription closes',
      );
    }
  }

  private keepAlive(): void {
    for (const tracked of this.tracked) {
      try {
        tracked.msg.working();
      } catch {
        // Disconnected: nothing to extend; the server redelivers after AckWait if it must.
      }
    }
  }

  /** The consumers of this subscription (stream and name), for tooling. */
  get consumers(): readonly ConsumerSpec[] {
    return this.specs;
  }

  async pause(): Promise<void> {
    if (this.paused) return;
    this.paused = true;
    for (const loop of this.loops) loop.stop();
    this.slots.abort();
    for (const tracked of [...this.tracked]) if (tracked.state === 'waiting') this.giveBack(tracked);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pause();
    for (const tracked of [...this.tracked]) this.giveBack(tracked);
    clearInterval(this.heartbeat);
    this.presence?.unsubscribe();
    this.onClose(this);
  }
}
