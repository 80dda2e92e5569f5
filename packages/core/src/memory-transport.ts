import type { Headers } from './envelope.js';
import { HeaderNames } from './envelope.js';
import { ErrorCodes, MailroomError } from './errors.js';
import { checkDeadLetterFilter, pageDeadLetters, selectDeadLetters } from './internal/dead-letter-paging.js';
import { deliveryLimitRequest, safeDeadLetterRequest } from './internal/dead-letter-request.js';
import { claimSettle } from './internal/settle-once.js';
import { createDefaultLogger, type Logger } from './logger.js';
import {
  DEFAULT_MAX_DELIVERIES,
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterQueue,
  type DeadLetterRequest,
  type Delivery,
  type DeliveryHandler,
  type FailureInfo,
  type OutgoingMessage,
  type QueueInfo,
  type SubscribeOptions,
  type Subscription,
  type Transport,
  type TransportCapabilities,
} from './transport.js';

interface StoredMessage {
  readonly headers: Headers;
  readonly body: Uint8Array;
  /** Deliveries made so far. */
  attempt: number;
  firstFailureAt: Date | undefined;
}

interface Consumer {
  readonly handler: DeliveryHandler;
  readonly concurrency: number;
  readonly maxDeliveries: number;
  readonly inFlight: Set<StoredMessage>;
  paused: boolean;
}

/** A message waiting for its time: a delayed retry or a scheduled message. */
interface Pending {
  readonly message: StoredMessage;
  /** On the broker's clock. */
  readonly dueAt: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The ready messages of a queue in order: taking the oldest is O(1) however long the queue grew
 * (`Array.prototype.shift` copies the rest of a long array, which made a closed-loop publisher's
 * backlog cost time quadratic in its length).
 */
class ReadyMessages {
  private items: StoredMessage[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(message: StoredMessage): void {
    this.items.push(message);
  }

  /** Takes the oldest message (undefined when empty). */
  shift(): StoredMessage | undefined {
    if (this.head === this.items.length) return undefined;
    const message = this.items[this.head] as StoredMessage;
    this.items[this.head] = undefined as unknown as StoredMessage;
    this.head += 1;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return message;
  }

  /** Puts `messages` back before every ready message, in their order. */
  unshift(messages: Iterable<StoredMessage>): void {
    this.items = [...messages, ...this.items.slice(this.head)];
    this.head = 0;
  }
}

class MemoryQueue {
  readonly ready = new ReadyMessages();
  readonly delayed = new Set<Pending>();
  readonly consumers: Consumer[] = [];
  readonly events = new Set<string>();
  next = 0;
  constructor(readonly name: string) {}
}

/**
 * The in-process broker behind {@link createMemoryTransport}: queues per endpoint, bindings per
 * event type, delayed retries and scheduled messages on one timeline, dead letters in a map.
 * Several transports connected to one broker behave like several processes on one broker. Nothing
 * survives the process. Its clock is `Date.now` moved forward by {@link advanceTime}, so tests can
 * jump over delays.
 */
export class MemoryBroker {
  private readonly queues = new Map<string, MemoryQueue>();
  private readonly bindings = new Map<string, Set<string>>();
  private readonly deadLetterStore = new Map<string, DeadLetter>();
  private deadLetterSeq = 0;
  private offsetMs = 0;

  /** The broker's time in epoch ms: the real time plus every {@link advanceTime} so far. */
  now(): number {
    return Date.now() + this.offsetMs;
  }

  /**
   * Moves the broker's clock `ms` forward: delayed retries and scheduled messages due by the new
   * time become ready at once (in due order), the others wait the time that is left. Time never
   * goes back; throws `MAILROOM_ERR_SCHEDULE_INVALID` for a negative or non-finite `ms`.
   */
  advanceTime(ms: number): void {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      throw new MailroomError(ErrorCodes.SCHEDULE_INVALID, `advanceTime needs a finite number of ms >= 0, got ${String(ms)}`);
    }
    this.offsetMs += ms;
    const now = this.now();
    const pending = [...this.queues.values()].flatMap((queue) => [...queue.delayed].map((entry) => ({ queue, entry })));
    pending.sort((a, b) => a.entry.dueAt - b.entry.dueAt);
    for (const { queue, entry } of pending) {
      clearTimeout(entry.timer);
      if (entry.dueAt <= now) this.release(queue, entry, false);
      else this.arm(queue, entry);
    }
    for (const queue of this.queues.values()) this.dispatch(queue.name);
  }

  /** @internal */
  enqueue(message: OutgoingMessage): void {
    const targets = message.route.kind === 'command' ? [message.route.destination] : [...(this.bindings.get(message.route.type) ?? [])];
    const dueAt = message.deliverAt?.getTime();
    for (const target of targets) {
      const stored: StoredMessage = { headers: { ...message.headers }, body: message.body.slice(), attempt: 0, firstFailureAt: undefined };
      const queue = this.queue(target);
      if (dueAt !== undefined && dueAt > this.now()) this.hold(queue, stored, dueAt);
      else queue.ready.push(stored);
      this.dispatch(target);
    }
  }

  /** @internal Removes the scheduled copies of a message no consumer received yet; true when there was one. */
  cancel(messageId: string): boolean {
    let found = false;
    for (const queue of this.queues.values()) {
      for (const entry of queue.delayed) {
        if (entry.message.attempt === 0 && entry.message.headers[HeaderNames.id] === messageId) {
          clearTimeout(entry.timer);
          queue.delayed.delete(entry);
          found = true;
        }
      }
    }
    return found;
  }

  /** Keeps a message until `dueAt` on the broker's clock. */
  private hold(queue: MemoryQueue, message: StoredMessage, dueAt: number): void {
    const entry: Pending = { message, dueAt, timer: undefined };
    queue.delayed.add(entry);
    this.arm(queue, entry);
  }

  private arm(queue: MemoryQueue, entry: Pending): void {
    // A timer fires early when the clock jumped back or the wait exceeds what a timer can hold: it then waits again.
    const wait = Math.min(MEMORY_MAX_SCHEDULE_DELAY_MS, Math.max(0, entry.dueAt - this.now()));
    entry.timer = setTimeout(() => (entry.dueAt <= this.now() ? this.release(queue, entry, true) : this.arm(queue, entry)), wait);
    entry.timer.unref?.();
  }

  private release(queue: MemoryQueue, entry: Pending, dispatch: boolean): void {
    if (!queue.delayed.delete(entry)) return;
    queue.ready.push(entry.message);
    if (dispatch) this.dispatch(queue.name);
  }

  /** @internal */
  queue(name: string): MemoryQueue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new MemoryQueue(name);
      this.queues.set(name, queue);
    }
    return queue;
  }

  /** @internal */
  bind(endpoint: string, type: string): void {
    this.queue(endpoint).events.add(type);
    let endpoints = this.bindings.get(type);
    if (!endpoints) {
      endpoints = new Set();
      this.bindings.set(type, endpoints);
    }
    endpoints.add(endpoint);
  }

  /** @internal Hands ready messages to consumers with free capacity, round robin. */
  dispatch(name: string): void {
    const queue = this.queue(name);
    while (queue.ready.length > 0) {
      const consumer = this.pick(queue);
      if (!consumer) return;
      const message = queue.ready.shift() as StoredMessage;
      message.attempt += 1;
      if (message.attempt > consumer.maxDeliveries) {
        this.storeDeadLetter(queue, message, deliveryLimitRequest(message.attempt, consumer.maxDeliveries, message.firstFailureAt));
        continue;
      }
      consumer.inFlight.add(message);
      const delivery = this.delivery(queue, consumer, message);
      // As on the other transports, a handler that throws leaves its delivery unsettled until the subscription closes.
      queueMicrotask(() => {
        try {
          void Promise.resolve(consumer.handler(delivery)).catch(handlerThrew);
        } catch (error) {
          handlerThrew(error);
        }
      });
    }
  }

  private pick(queue: MemoryQueue): Consumer | undefined {
    for (let i = 0; i < queue.consumers.length; i++) {
      const consumer = queue.consumers[(queue.next + i) % queue.consumers.length] as Consumer;
      if (!consumer.paused && consumer.inFlight.size < consumer.concurrency) {
        queue.next = (queue.next + i + 1) % queue.consumers.length;
        return consumer;
      }
    }
    return undefined;
  }

  private delivery(queue: MemoryQueue, consumer: Consumer, message: StoredMessage): Delivery {
    const release = () => claimSettle(consumer.inFlight, message);
    return {
      headers: { ...message.headers },
      body: message.body.slice(),
      attempt: message.attempt,
      firstFailureAt: message.firstFailureAt,
      ack: async () => {
        release();
        this.dispatch(queue.name);
      },
      retry: async (delayMs: number, _failure: FailureInfo) => {
        release();
        message.firstFailureAt ??= new Date();
        if (delayMs <= 0) queue.ready.push(message);
        else this.hold(queue, message, this.now() + delayMs);
        this.dispatch(queue.name);
      },
      deadLetter: async (request: DeadLetterRequest) => {
        release();
        this.storeDeadLetter(queue, message, safeDeadLetterRequest(request));
        this.dispatch(queue.name);
      },
    };
  }

  private storeDeadLetter(queue: MemoryQueue, message: StoredMessage, request: DeadLetterRequest): void {
    const id = `${queue.name}:${++this.deadLetterSeq}`;
    const text = (value: unknown) => (typeof value === 'string' ? value : '');
    this.deadLetterStore.set(id, {
      id,
      endpoint: queue.name,
      messageId: text(message.headers[HeaderNames.id]),
      type: text(message.headers[HeaderNames.type]),
      headers: { ...message.headers },
      body: message.body.slice(),
      ...request,
      errorStack: request.errorStack,
      deadLetteredAt: new Date(),
    });
  }

  /** @internal Puts a consumer's unsettled messages back at the head of the queue, in order. */
  detach(name: string, consumer: Consumer): void {
    const queue = this.queue(name);
    const index = queue.consumers.indexOf(consumer);
    if (index >= 0) queue.consumers.splice(index, 1);
    queue.ready.unshift(consumer.inFlight);
    consumer.inFlight.clear();
    this.dispatch(name);
  }

  /** @internal */
  readonly deadLetters: DeadLetterQueue = {
    list: async (filter: DeadLetterFilter = {}) => {
      const matches = selectDeadLetters(this.deadLetterStore.values(), filter, checkDeadLetterFilter(filter));
      return filter.limit === undefined ? matches : matches.slice(0, filter.limit);
    },
    page: async (filter: DeadLetterFilter = {}) => pageDeadLetters(this.deadLetterStore.values(), filter, 'memory'),
    get: async (id: string) => {
      const letter = this.deadLetterStore.get(id);
      if (!letter) throw new MailroomError(ErrorCodes.DEAD_LETTER_NOT_FOUND, `No dead letter with id ${id}`);
      return letter;
    },
    replay: async (id: string) => {
      const letter = await this.deadLetters.get(id);
      this.deadLetterStore.delete(id);
      this.enqueue({ route: { kind: 'command', type: letter.type, destination: letter.endpoint }, headers: letter.headers, body: letter.body });
    },
    purge: async (filter: DeadLetterFilter = {}) => {
      const matches = await this.deadLetters.list(filter);
      for (const letter of matches) this.deadLetterStore.delete(letter.id);
      return matches.length;
    },
  };

  /** @internal */
  queueInfos(): QueueInfo[] {
    return [...this.queues.values()].map((queue) => ({
      endpoint: queue.name,
      name: queue.name,
      depth: queue.ready.length + queue.delayed.size,
      inFlight: queue.consumers.reduce((sum, consumer) => sum + consumer.inFlight.size, 0),
      consumers: queue.consumers.length,
      deadLetters: [...this.deadLetterStore.values()].filter((letter) => letter.endpoint === queue.name).length,
      events: [...queue.events],
    }));
  }

  /** Cancels pending delayed retries (their messages are dropped). For test teardown. */
  dispose(): void {
    for (const queue of this.queues.values()) for (const entry of queue.delayed) clearTimeout(entry.timer);
    this.queues.clear();
  }
}

let handlerLog: Logger | undefined;
function handlerThrew(error: unknown): void {
  handlerLog ??= createDefaultLogger().child({ transport: 'memory' });
  handlerLog.error({ err: error }, 'a delivery handler threw; the message stays unsettled until the subscription closes');
}

/** Options of {@link createMemoryTransport}. */
export interface MemoryTransportOptions {
  /** Share one broker between transports to model several processes; default a new broker. */
  broker?: MemoryBroker;
}

/** The longest delay the memory transport schedules: the largest timer Node.js keeps (about 24.8 days). */
export const MEMORY_MAX_SCHEDULE_DELAY_MS = 2_147_483_647;

const memoryCapabilities: TransportCapabilities = Object.freeze({
  durable: false,
  crossProcess: false,
  delayedRetry: true,
  deadLetterQueue: true,
  delayPrecisionMs: 5,
  maxScheduleDelayMs: MEMORY_MAX_SCHEDULE_DELAY_MS,
});

/**
 * An in-memory transport with the semantics of the real ones: fan-out of events, commands to
 * their owner, competing consumers, retry with attempt + 1, delayed retry, dead letters,
 * unsettled deliveries returned on close. Nothing survives the process; for tests and examples.
 */
export function createMemoryTransport(options: MemoryTransportOptions = {}): Transport & { readonly broker: MemoryBroker } {
  const broker = options.broker ?? new MemoryBroker();
  const subscriptions = new Set<Subscription>();
  let closed = false;
  const assertOpen = () => {
    if (closed) throw new MailroomError(ErrorCodes.TRANSPORT_CLOSED, 'The memory transport is closed');
  };
  return {
    name: 'memory',
    broker,
    capabilities: memoryCapabilities,
    async publish(message) {
      assertOpen();
      broker.enqueue(message);
    },
    async cancelScheduled(messageId: string) {
      assertOpen();
      return broker.cancel(messageId);
    },
    async subscribe(options: SubscribeOptions, handler: DeliveryHandler) {
      assertOpen();
      const consumer: Consumer = {
        handler,
        concurrency: options.concurrency,
        maxDeliveries: options.maxDeliveries ?? DEFAULT_MAX_DELIVERIES,
        inFlight: new Set(),
        paused: false,
      };
      for (const type of options.events) broker.bind(options.endpoint, type);
      broker.queue(options.endpoint).consumers.push(consumer);
      let detached = false;
      const subscription: Subscription = {
        async pause() {
          consumer.paused = true;
        },
        async close() {
          consumer.paused = true;
          if (detached) return;
          detached = true;
          subscriptions.delete(subscription);
          broker.detach(options.endpoint, consumer);
        },
      };
      subscriptions.add(subscription);
      broker.dispatch(options.endpoint);
      return subscription;
    },
    deadLetters: broker.deadLetters,
    async queues() {
      return broker.queueInfos();
    },
    health() {
      return closed ? { connected: false, detail: 'closed' } : { connected: true, detail: 'in-process broker' };
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...subscriptions].map((subscription) => subscription.close()));
    },
  };
}
