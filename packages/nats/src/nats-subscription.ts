import {
  DEFAULT_MAX_DELIVERIES,
  type Delivery,
  type DeliveryHandler,
  ErrorCodes,
  type Logger,
  MailroomError,
  type SubscribeOptions,
  type Subscription,
} from '@mailroom/core';
import { deliveryLimitRequest, exponentialDelay, TurnBatcher, Waker } from '@mailroom/core/internal';
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
import { readHeaders } from './header-codec.js';
import { type ConsumerSpec, consumerSpecs, ensureConsumer } from './nats-consumers.js';
import { createNatsDelivery, type DeliveryContext, type TrackedMessage } from './nats-delivery.js';
import type { NatsNames } from './nats-names.js';
import { PullBudget } from './pull-budget.js';
import type { RetryStateStore } from './retry-state.js';
import { Slots } from './slots.js';

/** An acknowledgement waiting for the end of the turn, and what runs once the server read it. */
interface PendingAck {
  readonly msg: JsMsg;
  readonly afterwards: (() => void) | undefined;
}

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
  /** Stores a dead letter of `tracked`; resolves once stored. */
  readonly storeDeadLetter: DeliveryContext['storeDeadLetter'];
}

/**
 * How long one pull request waits at the server (the client's minimum). Short for two reasons:
 * the client retries a failed consumer check after a reconnect only after this long (a stall
 * right after a server restart), and NATS 2.9 keeps serving a pull request until it expires even
 * after its subscriber is gone, so a message given back sooner could land in a dead inbox and
 * wait a whole AckWait.
 */
const PULL_EXPIRES_MS = 1000;

/** Delay of the nak that gives a message back: our own pull requests (none is sent after `pause()`) have expired by then. */
export const GIVE_BACK_DELAY_MS = PULL_EXPIRES_MS + 250;

/** Most messages one pull request asks for. */
const MAX_PULL = 256;

/**
 * How far ahead of its handlers a subscription pulls: each consumer loop keeps the messages it has
 * asked for plus those the subscription holds (waiting for a slot or with a handler) under
 * `concurrency * PREFETCH_FACTOR`. The messages beyond the handlers are tracked like the others
 * (kept alive, given back on pause or close); they let the next pull travel while handlers run.
 */
const PREFETCH_FACTOR = 2;

/** Pull requests one consumer loop keeps open at once. */
const MAX_OPEN_PULLS = 2;

/** Longest pause between two pull attempts after a failed one. */
const MAX_RETRY_PAUSE_MS = PULL_EXPIRES_MS;

/** A consumer or stream the server does not know (deleted, or lost with memory storage). */
function isGone(error: unknown): boolean {
  return error instanceof JetStreamApiError && (error.code === JetStreamApiCodes.ConsumerNotFound || error.code === JetStreamApiCodes.StreamNotFound);
}

/**
 * One pull loop over one durable consumer, feeding the subscription's shared slots. It keeps up to
 * two pull requests (`fetch`) open, asking for what its {@link PullBudget} allows (the
 * subscription's prefetch budget minus the messages the subscription holds and those already asked
 * for), and hands each message to the subscription as it arrives, so no message sits untracked in
 * a client buffer: every received message is kept alive and given back on `pause()` / `close()`.
 * A second pull is sent once a quarter of the budget is free, so the next messages travel while
 * handlers run.
 */
class ConsumerLoop {
  private readonly pulls: PullBudget;
  private failures = 0;
  private stopped = false;
  /** Set while the loop waits after a failed pull (and recovers the consumer). */
  private holding: Promise<void> | undefined;
  /** What the loop waits on for budget (and, while disconnected, for its next look): {@link nudge}, closed by {@link stop}. */
  private readonly nudges = new Waker();
  /** Ends the pause after a failed pull (which nudges do not end) when the loop stops. */
  private readonly halt = new Waker();

  constructor(
    private readonly subscription: NatsSubscription,
    private readonly spec: ConsumerSpec,
    private readonly context: SubscriptionContext,
  ) {
    this.pulls = new PullBudget(subscription.budget, MAX_OPEN_PULLS, MAX_PULL);
  }

  async start(): Promise<void> {
    const consumer = await this.context.js.consumers.get(this.spec.stream, this.spec.name);
    void this.run(consumer);
  }

  /**
   * Sends no more pull requests. Those still open run until they expire (at most 1 s), and what
   * they bring is given back by the paused subscription: NATS 2.9 keeps serving a pull request
   * after its subscriber left, so a message sent to an inbox given up would wait a whole AckWait.
   */
  stop(): void {
    this.stopped = true;
    this.nudges.close();
    this.halt.close();
  }

  /** Wakes the loop to look at its budget again (a pull ended, a pause after a failure did). */
  nudge(): void {
    this.nudges.wake();
  }

  /**
   * A message was settled or given back: wakes the loop only when its budget now allows a pull.
   * Otherwise the loop cannot be waiting for this (it waits on its budget only while `wanted` is 0,
   * and looks again after every pull it is busy with), so most settles cost no wake-up and no turn.
   */
  freed(): void {
    if (this.pulls.wanted(this.subscription.held) > 0) this.nudges.wake();
  }

  private async run(consumer: Consumer): Promise<void> {
    while (!this.stopped) {
      if (this.holding) {
        await this.holding;
        continue;
      }
      const wanted = this.pulls.wanted(this.subscription.held);
      if (wanted === 0) {
        await this.nudges.wait(Number.POSITIVE_INFINITY);
        continue;
      }
      // A pull sent while disconnected would be replayed on reconnect to an inbox given up by then.
      if (!this.context.connected()) {
        if (this.context.nc.isClosed()) return;
        await this.nudges.wait(100);
        continue;
      }
      let messages: ConsumerMessages;
      try {
        messages = await consumer.fetch({ max_messages: wanted, expires: PULL_EXPIRES_MS });
      } catch (error) {
        this.failed(error);
        continue;
      }
      if (this.stopped) {
        // Not iterated: the pull request is never sent.
        messages.stop();
        return;
      }
      this.pulls.opened(wanted);
      void this.drain(messages, wanted);
    }
  }

  /** Iterates one pull request (which sends it), handing every message to the subscription as it arrives. */
  private async drain(messages: ConsumerMessages, wanted: number): Promise<void> {
    const sent = performance.now();
    let received = 0;
    let failure: { error: unknown } | undefined;
    try {
      for await (const msg of messages) {
        received += 1;
        this.pulls.arrived(received, wanted);
        this.subscription.receive(msg, this.spec);
      }
    } catch (error) {
      failure = { error };
    }
    this.pulls.closed(wanted, received);
    if (failure) this.failed(failure.error);
    else if (received > 0 || performance.now() - sent >= PULL_EXPIRES_MS / 2) this.failures = 0;
    // Ended early and empty without an error: never spin on such answers.
    else if (!this.stopped) this.holdOff(undefined);
    this.nudge();
  }

  private failed(error: unknown): void {
    if (this.stopped || this.context.nc.isClosed()) return;
    this.holdOff(error);
  }

  /** Sends no pull request for a while (longer after each failure in a row), recovering the consumer first after an error. */
  private holdOff(error: unknown): void {
    this.failures += 1;
    if (this.holding) return;
    const pause = exponentialDelay(this.failures + 1, 50, MAX_RETRY_PAUSE_MS);
    this.holding = (async () => {
      if (error !== undefined) await this.recover(error);
      // stop() ends the pause; none starts after it (a recovery may end after stop()).
      await this.halt.wait(pause);
    })().finally(() => {
      this.holding = undefined;
      this.nudge();
    });
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
}

/**
 * A running subscription of one endpoint: a pull loop per durable consumer, all sharing
 * `concurrency` slots, so no more than that many deliveries are unsettled in handlers at once.
 * Each loop pulls ahead of the handlers, at most `concurrency * PREFETCH_FACTOR` messages asked
 * for and held together, and the subscription tracks each message on arrival. Unsettled messages
 * (with a handler or waiting for a slot) are kept alive with `working()` every AckWait / 3, so
 * long handlers are not redelivered elsewhere. `pause()` gives back the messages waiting for a
 * slot and those its last pull requests still bring, `close()` every unsettled one (nak'd: another
 * consumer gets it about 1.25 s later); neither waits for handlers. Acknowledgements are sent
 * without waiting for a confirmation, those of one turn of the event loop together.
 */
export class NatsSubscription implements Subscription {
  readonly slots: Slots;
  /** Most messages a consumer loop has asked for and the subscription holds, together. */
  readonly budget: number;
  private readonly deliveryContext: DeliveryContext;
  /** Acknowledgements not sent yet: those of one turn of the event loop go out together (see {@link sendAcks}). */
  private readonly acks = new TurnBatcher<PendingAck>((batch) => this.sendAcks(batch), { when: 'tick' });
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
    this.budget = options.concurrency * PREFETCH_FACTOR;
    this.deliveryContext = {
      retryState: context.retryState,
      storeDeadLetter: context.storeDeadLetter,
      maxDeliveries: options.maxDeliveries ?? DEFAULT_MAX_DELIVERIES,
      settled: (settled) => {
        this.forget(settled);
        this.slots.release();
      },
      acknowledge: (msg, afterwards) => this.acknowledge(msg, afterwards),
    };
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
    // A free slot: to the handler in this same turn, without a wait for the slot.
    else if (this.slots.tryAcquire()) void this.dispatch(tracked);
    else void this.admit(tracked);
  }

  /** Waits for a slot (all were taken when the message came), then hands the message to the handler unless it was given back meanwhile. */
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
    this.forget(tracked);
    if (held) this.slots.release();
    try {
      tracked.msg.nak(GIVE_BACK_DELAY_MS);
    } catch {
      // Disconnected: the server redelivers it after AckWait.
    }
  }

  /**
   * A scheduled message that came before its time: records that this many deliveries were holds (so
   * the attempt count stays right), then naks it with the time left, the delayed-retry mechanism,
   * without the handler seeing it. JetStream counts it against the consumer's MaxAckPending while it waits.
   */
  private async hold(tracked: TrackedMessage, deliverAt: number): Promise<void> {
    await this.context.retryState.recordHeld(tracked.key, tracked.msg.info.deliveryCount);
    if (tracked.state !== 'handed') return; // given back while recording
    tracked.state = 'released';
    this.forget(tracked);
    this.slots.release();
    try {
      tracked.msg.nak(Math.max(1, Math.ceil(deliverAt - Date.now())));
    } catch {
      // Disconnected: the server delivers it again after AckWait, and it is held again if still early.
    }
  }

  /** Hands a message holding a slot to the handler. */
  private async dispatch(tracked: TrackedMessage): Promise<void> {
    tracked.state = 'handed';
    const { msg } = tracked;
    const { headers, deliverAt } = readHeaders(msg.headers);
    if (deliverAt !== undefined && deliverAt > Date.now()) {
      await this.hold(tracked, deliverAt);
      return;
    }
    const again = msg.info.deliveryCount > 1;
    const [firstFailureAt, held] = again
      ? await Promise.all([this.context.retryState.firstFailureAt(tracked.key), deliverAt === undefined ? 0 : this.context.retryState.held(tracked.key)])
      : [undefined, 0];
    // Paused or closed while the lookup ran: the handler never saw it, so it goes back.
    if (tracked.state !== 'handed' || this.paused) {
      this.giveBack(tracked);
      return;
    }
    const delivery = createNatsDelivery(tracked, headers, firstFailureAt, this.deliveryContext, held);
    if (delivery.attempt > this.deliveryContext.maxDeliveries) {
      this.park(delivery);
      return;
    }
    try {
      await this.handler(delivery);
    } catch (error) {
      this.context.log.error(
        { err: error, endpoint: this.options.endpoint },
        'delivery handler threw; the message stays unsettled until it is settled or the subscription closes',
      );
    }
  }

  /** The delivery bound: dead-letters the message without handing it to the handler. */
  private park(delivery: Delivery): void {
    const { maxDeliveries } = this.deliveryContext;
    const request = deliveryLimitRequest(delivery.attempt, maxDeliveries, delivery.firstFailureAt);
    this.context.log.error(
      { code: request.reason, endpoint: this.options.endpoint, messageId: delivery.headers['ce-id'], attempt: delivery.attempt },
      'message delivered more than maxDeliveries times: parked in the dead letters without running a handler',
    );
    delivery.deadLetter(request).catch((error) => {
      this.context.log.error(
        { code: ErrorCodes.DEAD_LETTER_FAILED, err: error, endpoint: this.options.endpoint },
        'could not park the message; it comes back in a minute',
      );
    });
  }

  /**
   * Queues an acknowledgement: those of one turn of the event loop are written together, which the
   * client sends in one socket write instead of one each. `afterwards` runs once the server has
   * read the ack (a flush answered), never before.
   */
  private acknowledge(msg: JsMsg, afterwards: (() => void) | undefined): void {
    if (this.context.nc.isClosed()) {
      throw new MailroomError(
        ErrorCodes.TRANSPORT_UNAVAILABLE,
        'The NATS connection is closed; the acknowledgement was not sent and the message will be delivered again',
      );
    }
    this.acks.add({ msg, afterwards });
  }

  /**
   * Writes the acknowledgements of one turn (at its end: `process.nextTick` queued from a promise
   * job runs once the microtask queue is empty, before the client flushes its buffer), then, when
   * some wait for it, one flush (a ping) that follows them all: what waits runs once it is answered.
   */
  private sendAcks(batch: readonly PendingAck[]): void {
    let confirmed: (() => void)[] | undefined;
    for (const { msg, afterwards } of batch) {
      try {
        msg.ack();
      } catch (error) {
        this.context.log.warn({ err: error, subject: msg.subject }, 'could not send an acknowledgement; the message will be delivered again');
        continue;
      }
      if (afterwards) (confirmed ??= []).push(afterwards);
    }
    if (confirmed === undefined) return;
    const callbacks = confirmed;
    this.context.nc.flush().then(
      () => {
        for (const run of callbacks) run();
      },
      (error) => this.context.log.debug({ err: error }, 'acknowledgements not confirmed by a flush; their retry state expires on its own'),
    );
  }

  /** The messages received and not yet settled or given back (waiting for a slot or with a handler). */
  get held(): number {
    return this.tracked.size;
  }

  /** Stops tracking a settled or given-back message; its place in the budget is free again. */
  private forget(tracked: TrackedMessage): void {
    this.tracked.delete(tracked);
    for (const loop of this.loops) loop.freed();
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
    this.acks.flush();
    await this.pause();
    for (const tracked of [...this.tracked]) this.giveBack(tracked);
    clearInterval(this.heartbeat);
    this.presence?.unsubscribe();
    this.onClose(this);
  }
}
