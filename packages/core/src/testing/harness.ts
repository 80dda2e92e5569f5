import { decodeJson } from '../codec.js';
import type { AnyContract, MessageOf } from '../contract.js';
import { createEndpoint, type Endpoint, type EndpointOptions } from '../endpoint.js';
import { type Envelope, HeaderNames, type Headers, readEnvelope } from '../envelope.js';
import { ErrorCodes, MailroomError } from '../errors.js';
import { createMemoryTransport, MemoryBroker } from '../memory-transport.js';
import type { Delivery, DeliveryHandler, OutgoingMessage, Transport } from '../transport.js';
import { FaultInjector } from './faults.js';

/** A message the harness saw: published to the transport, handled (acknowledged) by an endpoint, or dead-lettered. */
export interface RecordedMessage<D = unknown> {
  readonly envelope: Envelope;
  readonly headers: Headers;
  /** The payload as it travelled (not upcast). */
  readonly data: D;
  /** The endpoint that handled or dead-lettered it; undefined for published messages. */
  readonly endpoint: string | undefined;
  /** For dead letters: the reason code. */
  readonly reason: string | undefined;
}

/** Which kind of record `waitFor` waits for. */
export type RecordKind = 'published' | 'handled' | 'dead-lettered';

/** Options of {@link TestHarness.waitFor}. */
export interface WaitForOptions<D> {
  correlationId?: string;
  /** Default `published`. */
  on?: RecordKind;
  endpoint?: string;
  where?: (record: RecordedMessage<D>) => boolean;
  /** Default 5000 ms. */
  timeout?: number;
}

/** Options of {@link createTestHarness}. */
export interface TestHarnessOptions {
  /**
   * Makes the transport each endpoint uses; default an in-memory transport on one shared broker.
   * Pass a factory to run the same tests on SQLite, RabbitMQ or NATS.
   */
  transport?: () => Transport | Promise<Transport>;
}

/**
 * Runs several endpoints in one process and records every message published, handled and
 * dead-lettered, with fault injection. Works over any transport.
 */
export class TestHarness {
  /** Every message published, in order. */
  readonly published: RecordedMessage[] = [];
  /** Every delivery acknowledged, in order, with its endpoint. */
  readonly handled: RecordedMessage[] = [];
  /** Every delivery dead-lettered, in order, with its endpoint and reason. */
  readonly deadLettered: RecordedMessage[] = [];
  /** Duplicate, delay, reorder or fail messages. */
  readonly faults = new FaultInjector();
  readonly broker = new MemoryBroker();
  private readonly endpoints: Endpoint<any>[] = [];
  private readonly transports: Transport[] = [];
  private readonly listeners = new Set<() => void>();
  private readonly makeTransport: () => Transport | Promise<Transport>;
  /** True when endpoints run on the harness's memory broker, whose clock `advanceTime` moves. */
  private readonly ownsClock: boolean;

  constructor(options: TestHarnessOptions = {}) {
    this.ownsClock = options.transport === undefined;
    this.makeTransport = options.transport ?? (() => createMemoryTransport({ broker: this.broker }));
  }

  /** The harness's time in epoch ms: the real time plus every `advanceTime` so far. */
  now(): number {
    return this.broker.now();
  }

  /**
   * Moves the fake clock `ms` forward: scheduled messages (`deliverAt` / `delayMs`) and delayed
   * retries due by then are delivered at once, the others wait only what is left; `delayMs` of
   * later publishes counts from the new time. Only on the harness's own memory transport: with a
   * `transport` factory it throws `MAILROOM_ERR_TRANSPORT_UNSUPPORTED` (a real broker keeps real time).
   */
  advanceTime(ms: number): void {
    if (!this.ownsClock) {
      throw new MailroomError(ErrorCodes.TRANSPORT_UNSUPPORTED, 'harness.advanceTime works only on the harness memory transport (no transport option)');
    }
    this.broker.advanceTime(ms);
  }

  /**
   * Creates an endpoint on its own observed connection (like its own process). Started by
   * `harness.start()` or by itself. Heartbeats are off unless `heartbeat` is given, so `published`
   * holds only the messages of the system under test.
   */
  async endpoint<Tx = undefined>(options: Omit<EndpointOptions<Tx>, 'transport'>): Promise<Endpoint<Tx>> {
    const transport = this.observe(await this.makeTransport());
    this.transports.push(transport);
    const endpoint = createEndpoint<Tx>({ ...(this.ownsClock && { clock: () => this.broker.now() }), heartbeat: false, ...options, transport });
    endpoint.use({ incoming: this.faults.middleware(options.name) });
    this.endpoints.push(endpoint);
    return endpoint;
  }

  /** Starts every endpoint created so far. */
  async start(): Promise<void> {
    await Promise.all(this.endpoints.map((endpoint) => endpoint.start()));
  }

  /** Stops every endpoint and closes their transports. */
  async stop(): Promise<void> {
    this.faults.clear();
    await Promise.all(this.endpoints.map((endpoint) => endpoint.stop({ timeoutMs: 1000 })));
    await Promise.all(this.transports.map((transport) => transport.close()));
    this.broker.dispose();
  }

  /**
   * Resolves with the first record of `contract` (already seen or still to come) matching the
   * options; rejects with `MAILROOM_ERR_TESTING_TIMEOUT` listing what was seen instead.
   */
  waitFor<C extends AnyContract>(contract: C, options: WaitForOptions<MessageOf<C>> = {}): Promise<RecordedMessage<MessageOf<C>>> {
    const kind = options.on ?? 'published';
    const list = kind === 'published' ? this.published : kind === 'handled' ? this.handled : this.deadLettered;
    const matches = (record: RecordedMessage) =>
      record.envelope.type === contract.type &&
      (options.correlationId === undefined || record.envelope.correlationid === options.correlationId) &&
      (options.endpoint === undefined || record.endpoint === options.endpoint) &&
      (options.where === undefined || options.where(record as RecordedMessage<MessageOf<C>>));
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = list.find(matches);
        if (!found) return false;
        cleanup();
        resolve(found as RecordedMessage<MessageOf<C>>);
        return true;
      };
      const timeoutMs = options.timeout ?? 5000;
      const timer = setTimeout(() => {
        cleanup();
        const seen = list.map((r) => `${r.envelope.type}${r.endpoint ? `@${r.endpoint}` : ''}`).join(', ') || 'nothing';
        reject(new MailroomError(ErrorCodes.TESTING_TIMEOUT, `No ${kind} ${contract.type} within ${timeoutMs} ms; ${kind}: ${seen}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      if (!check()) this.listeners.add(check);
    });
  }

  private record(list: RecordedMessage[], headers: Headers, body: Uint8Array, endpoint?: string, reason?: string): void {
    list.push({ envelope: looseEnvelope(headers), headers: { ...headers }, data: looseData(body), endpoint, reason });
    for (const listener of [...this.listeners]) listener();
  }

  private observe(inner: Transport): Transport {
    const publish = (message: OutgoingMessage) => inner.publish(message);
    return {
      name: inner.name,
      capabilities: inner.capabilities,
      deadLetters: inner.deadLetters,
      queues: () => inner.queues(),
      close: () => inner.close(),
      ...(inner.cancelScheduled && { cancelScheduled: inner.cancelScheduled.bind(inner) }),
      publish: async (message) => {
        await this.faults.publish(message, publish);
        this.record(this.published, message.headers, message.body);
      },
      subscribe: (options, handler: DeliveryHandler) =>
        inner.subscribe(options, (delivery: Delivery) =>
          handler({
            get headers() {
              return delivery.headers;
            },
            get body() {
              return delivery.body;
            },
            attempt: delivery.attempt,
            firstFailureAt: delivery.firstFailureAt,
            ack: async () => {
              await delivery.ack();
              this.record(this.handled, delivery.headers, delivery.body, options.endpoint);
            },
            retry: (delayMs, failure) => delivery.retry(delayMs, failure),
            deadLetter: async (request) => {
              await delivery.deadLetter(request);
              this.record(this.deadLettered, delivery.headers, delivery.body, options.endpoint, request.reason);
            },
          }),
        ),
    };
  }
}

/** The envelope of a message, or for a malformed one (which the harness still records) its headers as they are. */
function looseEnvelope(headers: Headers): Envelope {
  try {
    return readEnvelope(headers);
  } catch {
    const id = headers[HeaderNames.id] ?? '';
    return {
      id,
      source: headers[HeaderNames.source] ?? '',
      type: headers[HeaderNames.type] ?? '',
      specversion: '1.0',
      time: headers[HeaderNames.time] ?? '',
      datacontenttype: headers[HeaderNames.datacontenttype] ?? '',
      dataversion: Number(headers[HeaderNames.dataversion]) || 0,
      correlationid: headers[HeaderNames.correlationid] ?? id,
      causationid: headers[HeaderNames.causationid],
      traceparent: headers[HeaderNames.traceparent],
    };
  }
}

/** The decoded body, or the raw bytes when they are not acceptable JSON. */
function looseData(body: Uint8Array): unknown {
  try {
    return decodeJson(body, Number.MAX_SAFE_INTEGER);
  } catch {
    return body;
  }
}

/** Creates a {@link TestHarness}. */
export function createTestHarness(options: TestHarnessOptions = {}): TestHarness {
  return new TestHarness(options);
}
