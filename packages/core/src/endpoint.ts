import { DEFAULT_MAX_MESSAGE_BYTES, decodeJson, encodeJson } from './codec.js';
import {
  type AnyContract,
  assertEndpointName,
  type CommandContract,
  type EventContract,
  type PayloadOf,
  readIncomingNow,
  validateOutgoingNow,
} from './contract.js';
import { checkEndpointHealth, type EndpointHealth, type HealthOptions } from './endpoint-health.js';
import { createEnvelope, type Envelope, envelopeToHeaders, HeaderNames, type Headers, readEnvelope } from './envelope.js';
import { ErrorCodes, errorMessage, isMailroomError, MailroomError } from './errors.js';
import type { Bus, Handler, HandlerOptions, PublishOptions, SendOptions } from './handler.js';
import { type HeartbeatOptions, HeartbeatSender, resolveHeartbeat } from './heartbeat-sender.js';
import { deliveryLimitRequest, safeDeadLetterRequest } from './internal/dead-letter-request.js';
import { checkNumberOption, NON_NEGATIVE, WHOLE_FROM_1 } from './internal/number-option.js';
import { createDefaultLogger, type Logger, lazyChild } from './logger.js';
import { compose, type IncomingContext, type IncomingMiddleware, type OutgoingContext, type OutgoingMiddleware } from './middleware.js';
import type { OutboxMessage } from './outbox.js';
import type { Persistence } from './persistence.js';
import {
  defaultRecoverabilityPolicy,
  type RecoverabilityAction,
  type RecoverabilityConfig,
  type RecoverabilityContext,
  type RecoverabilityPolicy,
  resolveRecoverabilityConfig,
} from './recoverability.js';
import type { Saga } from './saga.js';
import { registerSaga, type SagaOptions } from './saga-endpoint.js';
import { type Clock, resolveDeliverAt } from './schedule.js';
import { EndpointTelemetry, type ProcessTrace, type ProducerOperation, type ProducerTrace } from './telemetry/endpoint-telemetry.js';
import { defaultTelemetry, type StopObserving, type Telemetry } from './telemetry/telemetry.js';
import type { Delivery, MessageTransport, OutgoingMessage, Route, Subscription } from './transport.js';

export type { Bus, Handler, HandlerContext, HandlerOptions, PublishOptions, SendOptions } from './handler.js';

/** Options of {@link createEndpoint}. */
export interface EndpointOptions<Tx = undefined> {
  /** The endpoint's name: its queue / consumer group. Many processes with one name share the work. */
  name: string;
  /**
   * Where messages go and come from. Only the message-moving part is needed; a transport with the
   * management part too (`Transport`, every Mailroom transport) also reports its queue depth
   * as metrics.
   */
  transport: MessageTransport;
  /** Most messages handled at once by this process (the transport's prefetch). Default 8. */
  concurrency?: number;
  /** Retry settings for every handler of this endpoint (a handler can override them). */
  recoverability?: Partial<RecoverabilityConfig>;
  /**
   * Replaces the default policy; receives the merged settings. It is asked only when a handler
   * fails; unlike the default policy, it does not dead-letter a message whose deliveries keep
   * ending without a clean failure (a handler that crashes its process).
   */
  recoverabilityPolicy?: RecoverabilityPolicy;
  /** Largest body accepted or produced. Default 1 MiB. */
  maxMessageBytes?: number;
  /**
   * The last-resort bound on deliveries of one message: past it, the transport parks the message
   * in the dead-letter queue (`MAILROOM_ERR_TRANSPORT_DELIVERY_LIMIT`) without running a handler,
   * even when dead-lettering it the normal way keeps failing. Default: the most attempts any
   * handler's recoverability allows (1 + immediateRetries + delayedRetries), plus 10. Raise it
   * when a custom `recoverabilityPolicy` retries more often than its settings say.
   */
  maxDeliveries?: number;
  /** A pino-compatible logger; default pino at `MAILROOM_LOG_LEVEL` (info). */
  logger?: Logger;
  /** CloudEvents `source` of messages this endpoint produces. Default `urn:mailroom:<name>`. */
  source?: string;
  /** How long `stop()` lets in-flight handlers finish before aborting their signal. Default 30 s. */
  stopTimeoutMs?: number;
  /** The service's own database: inbox + outbox, handler transactions. */
  persistence?: Persistence<Tx>;
  middleware?: { incoming?: IncomingMiddleware[]; outgoing?: OutgoingMiddleware[] };
  /**
   * OpenTelemetry instrumentation: spans, metrics and trace context in message headers, through
   * `@opentelemetry/api` (see docs/observability.md). Default: the global providers the application
   * registered (no-ops without an SDK); a {@link Telemetry} for others; `false` switches it off.
   */
  telemetry?: Telemetry | false;
  /**
   * The clock that `delayMs` and `deliverAt` are measured on; default `Date.now`. The testing
   * harness passes its fake clock (see `harness.advanceTime`).
   */
  clock?: Clock;
  /**
   * Liveness heartbeats ({@link MailroomHeartbeat}): published at start and every `intervalMs`
   * (default 10 000, at least 100) while started, with the version, host, pid, concurrency,
   * in-flight count and `breakers()` states, for a `HeartbeatMonitor` (the console). Sent straight
   * to the transport (no middleware, telemetry or outbox); a failed one is a warning in the log,
   * never an error of the endpoint. On by default; `false` switches them off.
   */
  heartbeat?: false | HeartbeatOptions;
}

/**
 * Options of `endpoint.publish` and `endpoint.send` outside a handler: with `tx`, the message is
 * written to the outbox inside that open transaction of yours instead of being published now.
 */
export interface TransactionalOptions<Tx> {
  /**
   * A transaction you opened on your own client (a pg `PoolClient` after `BEGIN`). The message
   * leaves if and only if you commit it. Requires `persistence`.
   */
  tx?: Tx;
}

/** Options of {@link Endpoint.stop}. */
export interface StopOptions {
  /** Overrides the endpoint's `stopTimeoutMs`. */
  timeoutMs?: number;
}

interface Registration {
  contract: AnyContract;
  handler: Handler<AnyContract, unknown>;
  recoverability: RecoverabilityConfig;
}

type State = 'created' | 'starting' | 'started' | 'stopping' | 'stopped';

/** A validated, enveloped and encoded message with its producer span. */
interface Prepared {
  envelope: Envelope;
  message: OutgoingMessage;
  producer: ProducerTrace;
}

const ABORT_GRACE_MS = 1000;

/**
 * One service's connection to a transport: its handlers, its middleware, its queue.
 * Guarantees: a delivery is acknowledged only after its handler and the dispatch (or outbox
 * write) of the handler's outgoing messages succeeded; a failed handler emits nothing; every
 * delivery ends acknowledged, retried or dead-lettered with a reason, or (on stop or crash)
 * back in the queue.
 */
export class Endpoint<Tx = undefined> {
  readonly name: string;
  /** The transport given in the options (see `transportAdmin(endpoint.transport)` for its management part). */
  readonly transport: MessageTransport;
  readonly concurrency: number;
  readonly log: Logger;
  private readonly source: string;
  private readonly maxMessageBytes: number;
  private readonly maxDeliveriesOption: number | undefined;
  /** The bound passed to the transport at start (see {@link EndpointOptions.maxDeliveries}). */
  private maxDeliveries = Number.POSITIVE_INFINITY;
  private readonly stopTimeoutMs: number;
  private readonly persistence: Persistence<Tx> | undefined;
  private readonly clock: Clock;
  private readonly policy: RecoverabilityPolicy;
  private readonly endpointRecoverability: Partial<RecoverabilityConfig> | undefined;
  private readonly registrations = new Map<string, Registration>();
  private readonly incoming: IncomingMiddleware[] = [];
  private readonly outgoing: OutgoingMiddleware[] = [];
  /** Spans and metrics of this endpoint (no-ops when telemetry is off). */
  private readonly telemetry: EndpointTelemetry;
  private readonly inFlight = new Set<Promise<void>>();
  private stopController = new AbortController();
  private subscription: Subscription | undefined;
  private stopObservingQueue: StopObserving | undefined;
  private readonly heartbeat: HeartbeatSender | undefined;
  private state: State = 'created';
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(options: EndpointOptions<Tx>) {
    if (typeof options !== 'object' || options === null) throw configError('createEndpoint needs an options object with at least name and transport');
    assertEndpointName(options.name);
    if (!options.transport || typeof options.transport.publish !== 'function' || typeof options.transport.subscribe !== 'function') {
      throw configError(`Endpoint ${options.name}: "transport" must be a Mailroom transport (createSqliteTransport, createMemoryTransport, ...)`);
    }
    this.name = options.name;
    this.transport = options.transport;
    this.concurrency = positiveInteger(options.concurrency ?? 8, 'concurrency', options.name);
    this.maxMessageBytes = positiveInteger(options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES, 'maxMessageBytes', options.name);
    this.maxDeliveriesOption = options.maxDeliveries === undefined ? undefined : positiveInteger(options.maxDeliveries, 'maxDeliveries', options.name);
    this.stopTimeoutMs = nonNegative(options.stopTimeoutMs ?? 30_000, 'stopTimeoutMs', options.name);
    this.source = options.source ?? `urn:mailroom:${options.name}`;
    this.persistence = options.persistence;
    if (options.clock !== undefined && typeof options.clock !== 'function')
      throw configError(`Endpoint ${options.name}: clock must be a function returning epoch ms`);
    this.clock = options.clock ?? Date.now;
    this.policy = options.recoverabilityPolicy ?? defaultRecoverabilityPolicy;
    this.endpointRecoverability = options.recoverability;
    resolveRecoverabilityConfig(options.recoverability);
    this.log = (options.logger ?? createDefaultLogger()).child({ endpoint: options.name });
    const telemetry = options.telemetry === false ? undefined : (options.telemetry ?? defaultTelemetry());
    this.telemetry = new EndpointTelemetry(telemetry, options.name, options.transport.name, (type) =>
      this.registrations.get(type)?.contract.kind === 'command' ? options.name : type,
    );
    if (options.middleware) this.use(options.middleware);
    const heartbeat = resolveHeartbeat(options.heartbeat, `Endpoint ${options.name}: heartbeat`, configError);
    this.heartbeat =
      heartbeat &&
      new HeartbeatSender(
        { endpoint: options.name, source: this.source, concurrency: this.concurrency, inFlight: () => this.inFlight.size },
        options.transport,
        heartbeat,
        this.log,
      );
  }

  /**
   * Registers the handler of a contract's messages. One handler per message type per endpoint.
   * Must be called before `start()`.
   */
  on<C extends AnyContract>(contract: C, handler: Handler<C, Tx>, options: HandlerOptions = {}): this {
    if (this.state !== 'created' && this.state !== 'stopped') throw stateError(`Endpoint ${this.name}: register handlers before start()`);
    if (!contract || typeof contract.type !== 'string' || !contract.schema)
      throw configError(`Endpoint ${this.name}: on() needs a contract made by defineEvent or defineCommand`);
    if (typeof handler !== 'function') throw configError(`Endpoint ${this.name}: the handler of ${contract.type} must be a function`);
    if (this.registrations.has(contract.type))
      throw configError(`Endpoint ${this.name}: ${contract.type} already has a handler; one handler per message type per endpoint`);
    this.registrations.set(contract.type, {
      contract,
      handler: handler as Handler<AnyContract, unknown>,
      recoverability: resolveRecoverabilityConfig(this.endpointRecoverability, options.recoverability),
    });
    return this;
  }

  /**
   * Registers a saga (made by `defineSaga`): a handler for each contract it is started by or
   * handles, and one for its timeouts. Its instances live in the persistence's saga store (or
   * `options.store`); each message loads, changes and saves its instance with an optimistic version
   * check in the handler's transaction, together with the inbox record and the outgoing messages.
   * Must be called before `start()`. Throws `MAILROOM_ERR_SAGA_DEFINITION` without a saga store.
   */
  saga<S>(saga: Saga<S, Tx>, options: SagaOptions<Tx> = {}): this {
    registerSaga(this, this.persistence?.sagas, saga, options);
    return this;
  }

  /** Adds middleware around incoming handling and/or outgoing sending, after any added before. */
  use(middleware: { incoming?: IncomingMiddleware | IncomingMiddleware[]; outgoing?: OutgoingMiddleware | OutgoingMiddleware[] }): this {
    this.incoming.push(...[middleware.incoming ?? []].flat());
    this.outgoing.push(...[middleware.outgoing ?? []].flat());
    return this;
  }

  /** The contracts this endpoint handles. */
  get contracts(): AnyContract[] {
    return [...this.registrations.values()].map((registration) => registration.contract);
  }

  /** True between a successful `start()` and `stop()`. */
  get running(): boolean {
    return this.state === 'started';
  }

  /** True when the endpoint has persistence: `transaction()` works and its messages can leave through the outbox. */
  get hasPersistence(): boolean {
    return this.persistence !== undefined;
  }

  /**
   * Starts persistence (tables, relay) and, when the endpoint has handlers, declares its queue
   * and bindings and begins consuming. Resolves once consuming has begun.
   */
  start(): Promise<void> {
    if (this.state === 'started') return Promise.resolve();
    if (this.state === 'starting') return this.starting as Promise<void>;
    if (this.state === 'stopping') return Promise.reject(stateError(`Endpoint ${this.name} is stopping; await stop() before start()`));
    this.state = 'starting';
    this.starting = this.startNow().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async startNow(): Promise<void> {
    this.stopController = new AbortController();
    try {
      await this.persistence?.start({ endpoint: this.name, transport: this.transport, logger: this.log, telemetry: this.telemetry.telemetry });
      for (const { contract } of this.registrations.values()) {
        if (contract.kind === 'command' && contract.owner !== this.name) {
          this.log.warn(
            { type: contract.type, owner: contract.owner },
            `handles command ${contract.type} owned by ${contract.owner}; it only receives commands sent to it with { to: '${this.name}' }`,
          );
        }
      }
      if (this.registrations.size > 0) {
        const contracts = this.contracts;
        this.maxDeliveries = this.maxDeliveriesOption ?? defaultMaxDeliveries(this.registrations.values());
        this.subscription = await this.transport.subscribe(
          {
            endpoint: this.name,
            events: contracts.filter((c) => c.kind === 'event').map((c) => c.type),
            commands: contracts.filter((c) => c.kind === 'command').map((c) => c.type),
            concurrency: this.concurrency,
            maxDeliveries: this.maxDeliveries,
          },
          (delivery) => this.track(delivery),
        );
      }
      if (this.registrations.size > 0) this.stopObservingQueue = this.telemetry.observeQueue(this.transport);
      this.state = 'started';
      this.heartbeat?.start();
      this.log.debug({ handlers: this.registrations.size }, 'endpoint started');
    } catch (error) {
      this.state = 'created';
      await this.persistence?.stop().catch(() => undefined);
      throw error;
    }
  }

  /**
   * Stops gracefully: takes no new deliveries, lets in-flight handlers finish until the deadline,
   * then aborts their `signal` and returns their unsettled messages to the queue. Idempotent.
   * Does not close the transport (it may be shared); close it yourself. Called while `start()`
   * is in progress, it waits for the start to end, then stops.
   */
  stop(options: StopOptions = {}): Promise<void> {
    if (this.state === 'starting') {
      return (this.starting as Promise<void>).then(
        () => this.stop(options),
        () => undefined,
      );
    }
    if (this.state !== 'started') return this.stopping ?? Promise.resolve();
    this.state = 'stopping';
    this.stopping = this.stopNow(options.timeoutMs ?? this.stopTimeoutMs).finally(() => {
      this.state = 'stopped';
      this.stopping = undefined;
    });
    return this.stopping;
  }

  /**
   * Whether this endpoint can do its work now: its transport reports itself connected, its
   * consumer runs (when it has handlers), and its outbox's oldest unsent row is younger than
   * `maxRelayLagMs` (when it has persistence). For readiness probes; never throws.
   */
  health(options: HealthOptions = {}): Promise<EndpointHealth> {
    return checkEndpointHealth(
      {
        endpoint: this.name,
        transport: this.transport,
        persistence: this.persistence,
        running: this.state === 'started',
        consumes: this.registrations.size > 0,
        subscribed: this.subscription !== undefined,
      },
      options,
    );
  }

  private async stopNow(timeoutMs: number): Promise<void> {
    await this.heartbeat?.stop();
    this.stopObservingQueue?.();
    this.stopObservingQueue = undefined;
    await this.subscription?.pause();
    if (!(await settledWithin(this.inFlight, timeoutMs))) {
      this.log.warn({ inFlight: this.inFlight.size, timeoutMs }, 'stop deadline passed; aborting in-flight handlers');
      this.stopController.abort(new MailroomError(ErrorCodes.ENDPOINT_STATE, `Endpoint ${this.name} is stopping`));
      await settledWithin(this.inFlight, ABORT_GRACE_MS);
    }
    await this.subscription?.close();
    this.subscription = undefined;
    await this.persistence?.stop();
  }

  /**
   * Publishes an event to every endpoint subscribed to its type. Validates first (throws
   * `MAILROOM_ERR_CONTRACT_VALIDATION`, nothing sent). Resolves with the envelope once the
   * transport confirmed the message durable. With `{ tx }` (your own open transaction), it is
   * instead written to the outbox in that transaction and leaves if and only if you commit; the
   * relay finds it at its next poll (call `persistence.wake()` after your commit to send it at once).
   */
  async publish<C extends EventContract>(contract: C, data: PayloadOf<C>, options: PublishOptions & TransactionalOptions<Tx> = {}): Promise<Envelope> {
    expectKind(contract, 'event', 'publish');
    const { tx, ...rest } = options;
    const persistence = tx === undefined ? undefined : this.requirePersistence('publish(..., { tx })');
    if (persistence) {
      const { envelope, message } = await this.prepare(contract, data, rest, { kind: 'event', type: contract.type }, 'create');
      await persistence.addToOutbox(tx as Tx, [withOrderingKey(message, rest.orderingKey)]);
      return envelope;
    }
    const prepared = this.prepare(contract, data, rest, { kind: 'event', type: contract.type }, 'send');
    return this.publishNow(prepared instanceof Promise ? await prepared : prepared);
  }

  /**
   * Sends a command to its owner endpoint (or `options.to`). Validates first. Resolves once the
   * transport confirmed it durable; the command waits in the owner's queue if the owner is down.
   * With `{ tx }`, it is written to the outbox in your open transaction, as for `publish`.
   */
  async send<C extends CommandContract>(contract: C, data: PayloadOf<C>, options: SendOptions & TransactionalOptions<Tx> = {}): Promise<Envelope> {
    expectKind(contract, 'command', 'send');
    const { tx, ...rest } = options;
    const persistence = tx === undefined ? undefined : this.requirePersistence('send(..., { tx })');
    if (persistence) {
      const { envelope, message } = await this.prepare(contract, data, rest, commandRoute(contract, rest.to), 'create');
      await persistence.addToOutbox(tx as Tx, [withOrderingKey(message, rest.orderingKey)]);
      return envelope;
    }
    const prepared = this.prepare(contract, data, rest, commandRoute(contract, rest.to), 'send');
    return this.publishNow(prepared instanceof Promise ? await prepared : prepared);
  }

  /** Publishes a prepared message at once and ends its "send" span. */
  private async publishNow(prepared: Prepared): Promise<Envelope> {
    try {
      await this.transport.publish(prepared.message);
    } catch (error) {
      prepared.producer.end(error);
      throw error;
    }
    prepared.producer.end();
    return prepared.envelope;
  }

  /**
   * Cancels a message scheduled with `deliverAt` / `delayMs` (pass the `id` of the envelope that
   * `publish` or `send` resolved with) that no consumer has received yet. Resolves true when it was
   * removed from every queue it waited in, false when nothing was waiting (already delivered, unknown
   * id). A message still in the outbox is not seen: it reaches the transport once the relay sent it.
   * Throws `MAILROOM_ERR_TRANSPORT_UNSUPPORTED` when the transport cannot cancel (RabbitMQ; see
   * docs/scheduling.md).
   */
  async cancelScheduled(messageId: string): Promise<boolean> {
    if (typeof messageId !== 'string' || messageId === '') throw configError(`Endpoint ${this.name}: cancelScheduled needs a message id`);
    if (typeof this.transport.cancelScheduled !== 'function') {
      throw new MailroomError(ErrorCodes.TRANSPORT_UNSUPPORTED, `The ${this.transport.name} transport cannot cancel scheduled messages`, {
        details: { transport: this.transport.name },
      });
    }
    return this.transport.cancelScheduled(messageId);
  }

  /**
   * Runs `work` in one transaction of the service's database. Messages published or sent through
   * the scope are written to the outbox in that transaction: they leave if and only if it commits,
   * and the relay of this process is woken right after the commit. Requires `persistence`.
   */
  async transaction<T>(work: (scope: Bus & { tx: Tx }) => Promise<T>, options: PublishOptions = {}): Promise<T> {
    const persistence = this.requirePersistence('transaction()');
    return persistence.transaction(async (tx) => {
      const outgoing: OutboxMessage[] = [];
      const result = await work({ tx, ...this.bufferingBus(outgoing, options) });
      if (outgoing.length > 0) await persistence.addToOutbox(tx, outgoing);
      return result;
    });
  }

  private bufferingBus(outgoing: OutboxMessage[], defaults: PublishOptions): Bus {
    return {
      publish: async (contract, data, options = {}) => {
        expectKind(contract, 'event', 'publish');
        const merged = { ...defaults, ...options };
        const prepared = await this.prepare(contract, data, merged, { kind: 'event', type: contract.type }, 'create');
        outgoing.push(withOrderingKey(prepared.message, merged.orderingKey));
        return prepared.envelope;
      },
      send: async (contract, data, options = {}) => {
        expectKind(contract, 'command', 'send');
        const merged = { ...defaults, ...options };
        const prepared = await this.prepare(contract, data, merged, commandRoute(contract, options.to), 'create');
        outgoing.push(withOrderingKey(prepared.message, merged.orderingKey));
        return prepared.envelope;
      },
    };
  }

  private requirePersistence(method: string): Persistence<Tx> {
    if (!this.persistence) throw configError(`Endpoint ${this.name}: ${method} needs the persistence option (a SQLite or PostgreSQL store)`);
    return this.persistence;
  }

  /**
   * Validates and encodes a message inside a producer span (`create`: ended here, for a message
   * that leaves later; `send`: the caller ends it after publishing) whose context the message carries.
   * Without a promise when the schema validates synchronously and no outgoing middleware is set
   * (the publish path of most messages); throws what the promise would reject with otherwise.
   */
  private prepare(contract: AnyContract, data: unknown, options: PublishOptions, route: Route, operation: ProducerOperation): Prepared | Promise<Prepared> {
    assertOrderingKey(options.orderingKey, contract.type);
    const deliverAt = resolveDeliverAt(options, this.transport.capabilities, this.transport.name, this.clock());
    const validating = validateOutgoingNow(contract, data);
    if (validating) return validating.then(() => this.encode(contract, data, options, route, operation, deliverAt));
    return this.encode(contract, data, options, route, operation, deliverAt);
  }

  /** {@link prepare} after validation: the envelope, the producer span and the encoded message. */
  private encode(
    contract: AnyContract,
    data: unknown,
    options: PublishOptions,
    route: Route,
    operation: ProducerOperation,
    deliverAt: Date | undefined,
  ): Prepared | Promise<Prepared> {
    const created = createEnvelope({
      type: contract.type,
      dataversion: contract.version,
      source: this.source,
      ...(options.id !== undefined && { id: options.id }),
      ...(options.correlationId !== undefined && { correlationid: options.correlationId }),
      ...(options.causationId !== undefined && { causationid: options.causationId }),
    });
    const producer = this.telemetry.producer(operation, route, created, options);
    const { traceparent, tracestate } = producer.headers;
    const envelope: Envelope = traceparent === undefined ? created : { ...created, traceparent, ...(tracestate !== undefined && { tracestate }) };
    const headers: Headers = { ...options.headers };
    // Other propagated fields (a propagator's `baggage`) travel as headers of their own.
    for (const key in producer.headers) if (key !== 'traceparent' && key !== 'tracestate') headers[key] = producer.headers[key] as string;
    const ctx: OutgoingContext = { endpoint: this.name, contract, envelope, route, data, headers };
    // Without outgoing middleware the message is built right here, without a promise.
    if (this.outgoing.length > 0) return this.throughOutgoing(ctx, deliverAt, producer, operation);
    let message: OutgoingMessage;
    try {
      message = this.outgoingMessage(ctx, deliverAt);
    } catch (error) {
      producer.end(error);
      throw error;
    }
    if (operation === 'create') producer.end();
    return { envelope, message, producer };
  }

  /** Runs the outgoing middleware around building the message (see {@link encode}). */
  private async throughOutgoing(ctx: OutgoingContext, deliverAt: Date | undefined, producer: ProducerTrace, operation: ProducerOperation): Promise<Prepared> {
    let message: OutgoingMessage | undefined;
    try {
      await compose(this.outgoing, async (c: OutgoingContext) => {
        message = this.outgoingMessage(c, deliverAt);
      })(ctx);
      if (!message) throw configError(`Endpoint ${this.name}: an outgoing middleware did not call next(); ${ctx.contract.type} was not sent`);
    } catch (error) {
      producer.end(error);
      throw error;
    }
    if (operation === 'create') producer.end();
    return { envelope: ctx.envelope, message, producer };
  }

  /** The message a transport publishes for what the outgoing middleware left in `c`. */
  private outgoingMessage(c: OutgoingContext, deliverAt: Date | undefined): OutgoingMessage {
    return {
      route: c.route,
      headers: envelopeToHeaders(c.envelope, c.headers),
      body: encodeJson(c.data, this.maxMessageBytes),
      ...(deliverAt !== undefined && { deliverAt }),
    };
  }

  private track(delivery: Delivery): Promise<void> {
    const traced = this.telemetry.process(delivery);
    const processing = traced.run(() => this.process(delivery, traced).catch((error) => this.returnToQueue(delivery, error))).finally(() => traced.end());
    this.inFlight.add(processing);
    void processing.finally(() => this.inFlight.delete(processing));
    return processing;
  }

  /** After an unexpected error outside the handler's recoverability: returns the delivery to the queue now, best effort. */
  private async returnToQueue(delivery: Delivery, error: unknown): Promise<void> {
    try {
      this.log.error({ err: error }, 'unexpected error while processing a delivery; it returns to the queue');
    } catch {
      // A failing logger must not leave the delivery unsettled.
    }
    const failure = { reason: ErrorCodes.HANDLER_FAILED, errorMessage: errorMessage(error), errorStack: stackOf(error) };
    try {
      await delivery.retry(0, failure);
    } catch {
      // Already settled, or its connection is gone: the broker then delivers it again by itself.
    }
  }

  private async process(delivery: Delivery, traced: ProcessTrace): Promise<void> {
    if (delivery.attempt > this.maxDeliveries) {
      // The transport parks such a message itself; this guards transports that do not know the bound.
      const limit = deliveryLimitRequest(delivery.attempt, this.maxDeliveries, delivery.firstFailureAt);
      const error = new MailroomError(ErrorCodes.TRANSPORT_DELIVERY_LIMIT, limit.errorMessage, { unrecoverable: true });
      await this.deadLetter(delivery, error, ErrorCodes.TRANSPORT_DELIVERY_LIMIT, this.log, traced);
      return;
    }
    let envelope: Envelope;
    let registration: Registration | undefined;
    let message: unknown;
    try {
      envelope = readEnvelope(delivery.headers);
      registration = this.registrations.get(envelope.type);
      if (!registration) {
        throw new MailroomError(ErrorCodes.CONTRACT_UNKNOWN_TYPE, `Endpoint ${this.name} has no handler for ${envelope.type}`, { unrecoverable: true });
      }
      const read = readIncomingNow(registration.contract, decodeJson(delivery.body, this.maxMessageBytes), envelope.dataversion);
      message = read instanceof Promise ? await read : read;
    } catch (error) {
      await this.deadLetter(delivery, error, isMailroomError(error) ? error.code : ErrorCodes.ENVELOPE_INVALID, this.log.child(traced.logBindings), traced);
      return;
    }
    traced.describe(envelope);
    // Made when the handler (or the endpoint) first logs: most deliveries never do.
    const log = lazyChild(this.log, {
      messageId: envelope.id,
      type: envelope.type,
      correlationId: envelope.correlationid,
      attempt: delivery.attempt,
      ...traced.logBindings,
    });
    try {
      const outgoing: OutboxMessage[] = [];
      const handled = await this.runHandler(registration, envelope, delivery, message, log, outgoing);
      if (!handled) traced.duplicate();
      if (handled && outgoing.length > 0 && !this.persistence)
        await Promise.all(outgoing.map(({ orderingKey: _key, ...message }) => this.telemetry.send(message, () => this.transport.publish(message))));
      await traced.settle('ack', () => settle(() => delivery.ack(), log));
    } catch (error) {
      if (this.stopController.signal.aborted) {
        log.warn({ err: error }, 'handler interrupted by stop; the message returns to the queue');
        return;
      }
      await this.recover(delivery, error, registration.recoverability, log, traced);
    }
  }

  /** Runs middleware and handler (in a transaction with the inbox when persistence is set). Returns false for an inbox duplicate. */
  private async runHandler(
    registration: Registration,
    envelope: Envelope,
    delivery: Delivery,
    message: unknown,
    log: Logger,
    outgoing: OutboxMessage[],
  ): Promise<boolean> {
    const signal = this.stopController.signal;
    const bus = this.bufferingBus(outgoing, {
      correlationId: envelope.correlationid,
      causationId: envelope.id,
      ...(envelope.traceparent && { traceparent: envelope.traceparent }),
      ...(envelope.tracestate && { tracestate: envelope.tracestate }),
    });
    const invoke = async (tx: Tx) => {
      // After the inbox check: a duplicate of a message already handled is skipped, not dead-lettered.
      this.assertMayRunAgain(delivery, registration.recoverability, envelope.type, log);
      const handle = (current: unknown) =>
        registration.handler(current, {
          publish: bus.publish,
          send: bus.send,
          endpoint: this.name,
          envelope,
          headers: delivery.headers,
          attempt: delivery.attempt,
          signal,
          log,
          tx,
        });
      // Without incoming middleware the handler is called straight away (no context, no dispatch closure).
      if (this.incoming.length === 0) {
        await handle(message);
        return;
      }
      const ctx: IncomingContext = {
        endpoint: this.name,
        contract: registration.contract,
        envelope,
        headers: delivery.headers,
        message,
        attempt: delivery.attempt,
        log,
        signal,
      };
      await compose(this.incoming, async (c: IncomingContext) => {
        await handle(c.message);
      })(ctx);
    };
    const persistence = this.persistence;
    if (!persistence) {
      await invoke(undefined as Tx);
      return true;
    }
    return persistence.transaction(async (tx) => {
      if (!(await persistence.recordInbox(tx, this.name, envelope.id))) {
        log.debug({}, 'duplicate delivery skipped by the inbox');
        return false;
      }
      await invoke(tx);
      if (outgoing.length > 0) await persistence.addToOutbox(tx, outgoing);
      return true;
    });
  }

  private async recover(delivery: Delivery, error: unknown, config: RecoverabilityConfig, log: Logger, traced: ProcessTrace): Promise<void> {
    // The crash-loop guard already decided: the policy is not asked a second time.
    const guarded = crashLoopReasons.get(error as object);
    const action = guarded !== undefined ? { action: 'dead-letter' as const, reason: guarded } : this.decide(error, delivery.attempt, config, log);
    if (action.action === 'dead-letter') {
      await this.deadLetter(delivery, error, action.reason, log, traced);
      return;
    }
    log.warn({ err: error, delayMs: action.delayMs }, 'handler failed; retrying');
    const failure = { reason: isMailroomError(error) ? error.code : ErrorCodes.HANDLER_FAILED, errorMessage: errorMessage(error), errorStack: stackOf(error) };
    traced.retried(failure.reason, action.delayMs, error);
    await traced.settle('retry', () => settle(() => delivery.retry(action.delayMs, failure), log));
  }

  /** Asks the policy; when a custom one throws or answers something that is not an action, the default policy decides, so the delivery is still settled. */
  /**
   * The crash-loop guard, before a handler runs again. The default policy dead-letters at its last
   * allowed attempt, so a delivery beyond it means the earlier ones never failed cleanly: it is
   * dead-lettered without running the handler. A policy of your own is asked, when no earlier
   * attempt failed cleanly (no first-failure time: a crash, an expired lease or a stop ended them),
   * whether the message should run again, with `earlierAttemptsFailedCleanly: false`; when it says
   * dead-letter, the handler does not run.
   */
  private assertMayRunAgain(delivery: Delivery, config: RecoverabilityConfig, type: string, log: Logger): void {
    if (delivery.attempt <= 1) return;
    if (this.policy === defaultRecoverabilityPolicy) {
      assertWithinAttempts(delivery.attempt, config, type);
      return;
    }
    if (delivery.firstFailureAt !== undefined) return;
    const crashed = new MailroomError(
      ErrorCodes.HANDLER_FAILED,
      `${type} was delivered ${delivery.attempt} times without its handler failing cleanly (a crash, an expired lease or a stop interrupted it)`,
    );
    const action = this.decide(crashed, delivery.attempt - 1, config, log, { earlierAttemptsFailedCleanly: false });
    if (action.action === 'dead-letter') {
      const stop = new MailroomError(
        ErrorCodes.HANDLER_FAILED,
        `${crashed.message}; the recoverability policy dead-lettered it without running the handler again`,
        {
          unrecoverable: true,
        },
      );
      crashLoopReasons.set(stop, action.reason);
      throw stop;
    }
  }

  private decide(error: unknown, attempt: number, config: RecoverabilityConfig, log: Logger, context?: RecoverabilityContext): RecoverabilityAction {
    try {
      const action = this.policy(error, attempt, config, Math.random, context ?? CLEAN_FAILURE);
      if (action?.action === 'dead-letter' || (action?.action === 'retry' && Number.isFinite(action.delayMs))) return action;
      log.error({ action }, 'the recoverability policy answered no action; the default policy decides');
    } catch (policyError) {
      log.error({ err: policyError }, 'the recoverability policy threw; the default policy decides');
    }
    return defaultRecoverabilityPolicy(error, attempt, config);
  }

  private async deadLetter(delivery: Delivery, error: unknown, reason: string, log: Logger, traced: ProcessTrace): Promise<void> {
    const request = safeDeadLetterRequest({
      reason,
      errorMessage: errorMessage(error),
      errorStack: stackOf(error),
      attempts: delivery.attempt,
      firstFailureAt: delivery.firstFailureAt as Date,
      lastFailureAt: new Date(),
    });
    log.error({ err: error, reason: request.reason, attempts: request.attempts }, 'message dead-lettered');
    traced.deadLettered(request.reason, error);
    await traced.settle('dead_letter', async () => {
      try {
        await delivery.deadLetter(request);
      } catch (failure) {
        // Never a silent requeue: the transport keeps the message and parks it past maxDeliveries.
        log.error(
          {
            code: ErrorCodes.DEAD_LETTER_FAILED,
            err: failure,
            reason: request.reason,
            messageId: delivery.headers[HeaderNames.id],
            type: delivery.headers[HeaderNames.type],
            attempt: delivery.attempt,
            maxDeliveries: this.maxDeliveries,
          },
          'could not dead-letter the message; it stays in its queue and the transport parks it once its deliveries pass maxDeliveries',
        );
      }
    });
  }
}

/** Creates an endpoint. See {@link Endpoint} for what it guarantees. Throws `MAILROOM_ERR_ENDPOINT_CONFIG` for bad options. */
export function createEndpoint<Tx = undefined>(options: EndpointOptions<Tx>): Endpoint<Tx> {
  return new Endpoint(options);
}

async function settle(action: () => Promise<void>, log: Logger): Promise<void> {
  try {
    await action();
  } catch (error) {
    log.warn({ err: error }, 'could not settle the delivery; the broker will deliver it again');
  }
}

async function settledWithin(promises: Set<Promise<void>>, ms: number): Promise<boolean> {
  if (promises.size === 0) return true;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const all = (async () => {
    while (promises.size > 0) await Promise.allSettled([...promises]);
    return true as const;
  })();
  try {
    return await Promise.race([all, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The default policy dead-letters a message at its last allowed attempt, so a delivery beyond it
 * means the earlier ones never failed cleanly: the handler crashed its process, outlived its lease,
 * or was interrupted by a stop. Running it again could crash again, for ever; it is dead-lettered.
 */
function assertWithinAttempts(attempt: number, config: RecoverabilityConfig, type: string): void {
  const allowed = 1 + config.immediateRetries + config.delayedRetries;
  if (attempt > allowed) {
    throw new MailroomError(
      ErrorCodes.HANDLER_FAILED,
      `${type} was delivered ${attempt} times, more than the ${allowed} attempts its recoverability allows, without its handler failing cleanly (a crash, an expired lease or a stop interrupted it); dead-lettered without running the handler again`,
      { unrecoverable: true },
    );
  }
}

/** The errors the crash-loop guard throws to stop a handler from running again, with the policy's dead-letter reason. */
const crashLoopReasons = new WeakMap<object, string>();

/** What a policy is told after a handler failed cleanly (it threw). */
const CLEAN_FAILURE: RecoverabilityContext = Object.freeze({ earlierAttemptsFailedCleanly: true });

/** The default `maxDeliveries`: the most attempts any handler's recoverability allows, plus 10. */
function defaultMaxDeliveries(registrations: Iterable<Registration>): number {
  let allowed = 1;
  for (const { recoverability } of registrations) allowed = Math.max(allowed, 1 + recoverability.immediateRetries + recoverability.delayedRetries);
  return allowed + 10;
}

function stackOf(error: unknown): string | undefined {
  return error instanceof Error ? error.stack : undefined;
}

function withOrderingKey(message: OutgoingMessage, orderingKey: string | undefined): OutboxMessage {
  return orderingKey === undefined ? message : { ...message, orderingKey };
}

function assertOrderingKey(key: unknown, type: string): void {
  if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > 200)) {
    throw configError(`orderingKey of ${type} must be a non-empty string of at most 200 characters, got ${JSON.stringify(key)}`);
  }
}

function commandRoute(contract: CommandContract, to: string | undefined): Route {
  const destination = to ?? contract.owner;
  assertEndpointName(destination, `destination of ${contract.type}`);
  return { kind: 'command', type: contract.type, destination };
}

function expectKind(contract: AnyContract, kind: 'event' | 'command', method: string): void {
  if (contract?.kind !== kind) {
    const other = kind === 'event' ? 'send' : 'publish';
    throw configError(
      `${method}() takes ${kind} contracts; ${contract?.type ?? 'this'} is ${contract?.kind ? `a ${contract.kind}: use ${other}()` : 'not a contract'}`,
    );
  }
}

function positiveInteger(value: number, name: string, endpoint: string): number {
  return checkNumberOption(value, `Endpoint ${endpoint}: ${name}`, WHOLE_FROM_1, configError);
}

function nonNegative(value: number, name: string, endpoint: string): number {
  return checkNumberOption(value, `Endpoint ${endpoint}: ${name}`, NON_NEGATIVE, configError);
}

function configError(message: string): MailroomError {
  return new MailroomError(ErrorCodes.ENDPOINT_CONFIG, message);
}

function stateError(message: string): MailroomError {
  return new MailroomError(ErrorCodes.ENDPOINT_STATE, message);
}
