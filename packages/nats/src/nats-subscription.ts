import type { DeliveryHandler, Logger, SubscribeOptions, Subscription } from '@mailroom/core';
import {
  type Consumer,
  type ConsumerMessages,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
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
  /** Whether the connection is up (false while reconnecting). */
  readonly connected: () => boolean;
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

/** Most messages one pull request asks for. */
const MAX_PULL = 256;

/** Longest pause between two pull attempts after a failed one. */
const MAX_RETRY_PAUSE_MS = PULL_EXPIRES_MS;

/** A consumer or stream the server does not know (deleted, or lost with memory storage). */
function isGone(error: unknown): boolean {
  return error instanceof JetStreamApiError && (error.code === JetStreamApiCodes.ConsumerNotFound || error.code === JetStreamApiCodes.StreamNotFound);
}

/**
 * One pull loop over one durable consumer, feeding the subscription's shared slots. It asks only
 * for as many messages as there are free slots (`fetch`, one request at a time) and hands each
 * message to the subscription as it arrives, so no message sits untracked in a client buffer:
 * every received message is kept alive and given back on `pause()` / `close()`.
 */
class ConsumerLoop {
  private fetching: ConsumerMessages | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly subscription: NatsSubscription,
    private readonly spec: ConsumerSpec,
    private readonly context: SubscriptionContext,
  ) {}

  async start(): Promise<void> {
    const consumer = await this.context.js.consumers.get(this.spec.stream, this.spec.name);
    void this.run(consumer);
  }

  stop(): void {
    this.stopped = true;
    this.fetching?.stop();
    this.wake?.();
  }

  private async run(consumer: Consumer): Promise<void> {
    const { slots } = this.subscription;
    let failures = 0;
    while (!this.stopped) {
      if (!(await slots.whenFree()) || this.stopped) return;
      // A pull sent while disconnected would be replayed on reconnect to an inbox given up by then.
      if (!this.context.connected()) {
        if (this.context.nc.isClosed()) return;
        await this.sleep(100);
        continue;
      }
      // Other loops' messages may have taken the free slots meanwhile (and 0 would mean the client's default of 100).
      const wanted = Math.min(slots.free, MAX_PULL);
      if (wanted < 1) continue;
      try {
        const messages = await consumer.fetch({ max_messages: wanted, expires: PULL_EXPIRES_MS });
        this.fetching = messages;
        if (this.stopped) {
          // Not iterated: the pull request is never sent.
          messages.stop();
          return;
        }
        const sent = performance.now();
        let received = 0;
        for await (const msg of messages) {
          received += 1;
          this.subscription.receive(msg, this.spec);
        }
        if (received > 0 || performance.now() - sent >= PULL_EXPIRES_MS / 2) failures = 0;
        else if (!this.stopped) {
          // Ended early and empty without an error: never spin on such answers.
          failures += 1;
          await this.sleep(Math.min(50 * 2 ** failures, MAX_RETRY_PAUSE_MS));
        }
      } catch (error) {
        if (this.stopped || this.context.nc.isClosed()) return;
        failures += 1;
        await this.recover(error);
        await this.sleep(Math.min(50 * 2 ** failures, MAX_RETRY_PAUSE_MS));
      } finally {
        this.fetching = undefined;
      }
    }
  }

  /** After a failed pull: recreates the consumer (and streams) when the server lost it, e.g. after a restart without its state: nats.node #570. */
  private async recover(error: unknown): Promise<void> {
    this.context.log.debug({ err: error, consumer: this.spec.name }, 'pull request failed; pulling again');
    try {
      await this.context.jsm.consumers.info(this.spec.stream, this.spec.name);
      return;
    } catch (infoError) {
      if (!isGone(infoError) || this.stopped) return;
    }
    this.context.log.warn({ consumer: this.spec.name, stream: this.spec.stream }, 'consumer is gone; recreating it');
    try {
      await this.context.recreateTopology();
      await ensureConsumer(this.context.jsm, this.spec, this.context.ackWaitMs);
    } catch (recreateError) {
      this.context.log.warn({ err: recreateError, consumer: this.spec.name }, 'could not recreate the consumer yet; trying again on the next pull');
    }
  }

  /** Waits `ms`, or less when the loop stops. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}

/**
 * A running subscription of one endpoint: a pull loop per durable consumer, all sharing
 * `concurrency` slots, so no more than that many deliveries are unsettled in handlers at once.
 * The loops pull only as many messages as there are free slots and track each one on arrival.
 * Unsettled messages (with a handler or waiting for a slot) are kept alive with `working()` every
 * AckWait / 3, so long handlers are not redelivered elsewhere. `pause()` gives back the messages
 * waiting for a slot and `close()` every unsettled one (nak'd: another consumer gets it about
 * 1.25 s later); neither waits for handlers.
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
    this.loops = specs.map((spec) => new ConsumerLoop(this, spec, context));
    this.heartbeat = setInterval(() => this.keepAlive(), Math.max(100, Math.floor(context.ackWaitMs / 3)));
    this.heartbeat.unref();
  }

  /** Declares the endpoint's consumers, then starts consuming. Resolves once every consumer's pull loop runs. */
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

  /**
   * @internal Takes a message as it arrives: tracks it at once (kept alive, given back on pause or
   * close), then hands it to the handler when it holds a slot.
   */
  receive(msg: JsMsg, spec: ConsumerSpec): void {
    const type = spec.eventType ?? this.context.names.parseSubject(msg.subject)?.type ?? msg.subject;
    const tracked: TrackedMessage = { msg, endpoint: this.options.endpoint, type, key: `${spec.stream}.${spec.name}.${msg.seq}`, state: 'waiting' };
    this.tracked.add(tracked);
    if (this.paused) this.giveBack(tracked);
    else void this.admit(tracked);
  }

  private async admit(tracked: TrackedMessage): Promise<void> {
    if (!(await this.slots.acquire())) {
      this.giveBack(tracked);
      return;
    }
    if (tracked.state !== 'waiting') {
      this.slots.release();
      return;
    }
    await this.dispatch(tracked);
  }

  /** Returns an unsettled message to the server, redelivered once our pull requests have expired. */
  private giveBack(tracked: TrackedMessage): void {
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

  /** Hands a message holding a slot to the handler. */
  private async dispatch(tracked: TrackedMessage): Promise<void> {
    tracked.state = 'handed';
    const { msg } = tracked;
    const firstFailureAt = msg.info.deliveryCount > 1 ? await this.context.retryState.firstFailureAt(tracked.key) : undefined;
    // Paused or closed while the lookup ran: the handler never saw it, so it goes back.
    if (tracked.state !== 'handed' || this.paused) {
      this.giveBack(tracked);
      return;
    }
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
