import type { Headers } from './envelope.js';
import { HeaderNames } from './envelope.js';
import { ErrorCodes, MailroomError } from './errors.js';
import { checkDeadLetterFilter, pageDeadLetters, selectDeadLetters } from './internal/dead-letter-paging.js';
import { deliveryLimitRequest, safeDeadLetterRequest } from './internal/dead-letter-request.js';
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

class MemoryQueue {
  readonly ready: StoredMessage[] = [];
  readonly delayed = new Map<NodeJS.Timeout, StoredMessage>();
  readonly consumers: Consumer[] = [];
  readonly events = new Set<string>();
  next = 0;
  constructor(readonly name: string) {}
}

/**
 * The in-process broker behind {@link createMemoryTransport}: queues per endpoint, bindings per
 * event type, delayed retries on timers, dead letters in a map. Several transports connected to
 * one broker behave like several processes on one broker. Nothing survives the process.
 */
export class MemoryBroker {
  private readonly queues = new Map<string, MemoryQueue>();
  private readonly bindings = new Map<string, Set<string>>();
  private readonly deadLetterStore = new Map<string, DeadLetter>();
  private deadLetterSeq = 0;

  /** @internal */
  enqueue(message: OutgoingMessage): void {
    const targets = message.route.kind === 'command' ? [message.route.destination] : [...(this.bindings.get(message.route.type) ?? [])];
    for (const target of targets) {
      this.queue(target).ready.push({ headers: { ...message.headers }, body: message.body.slice(), attempt: 0, firstFailureAt: undefined });
      this.dispatch(target);
    }
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
    const release = () => {
      if (!consumer.inFlight.delete(message)) {
        throw new MailroomError(ErrorCodes.TRANSPORT_SETTLED, 'This delivery was already settled or returned to the queue');
      }
    };
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
        if (delayMs <= 0) {
          queue.ready.push(message);
        } else {
          const timer = setTimeout(() => {
            queue.delayed.delete(timer);
            queue.ready.push(message);
            this.dispatch(queue.name);
          }, delayMs);
          timer.unref?.();
          queue.delayed.set(timer, message);
        }
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
    queue.ready.unshift(...consumer.inFlight);
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
    for (const queue of this.queues.values()) for (const timer of queue.delayed.keys()) clearTimeout(timer);
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

const memoryCapabilities: TransportCapabilities = Object.freeze({
  durable: false,
  crossProcess: false,
  delayedRetry: true,
  deadLetterQueue: true,
  delayPrecisionMs: 5,
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
