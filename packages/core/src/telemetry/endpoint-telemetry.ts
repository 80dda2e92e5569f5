import { type Attributes, context, type Link, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { type Envelope, HeaderNames } from '../envelope.js';
import { errorMessage } from '../errors.js';
import type { Delivery, MessageTransport, OutgoingMessage, Route, TransportAdmin } from '../transport.js';
import { transportAdmin } from '../transport-admin.js';
import { MessagingAttributes as A, MessagingEvents } from './messaging-attributes.js';
import type { StopObserving, Telemetry } from './telemetry.js';
import { extractCreationContext, injectTraceHeaders, parseTraceparent, type TraceHeaders } from './trace-headers.js';

/** How a producer span is made: `create` for a message written to the outbox (or held until its handler succeeds), `send` for one published at once. */
export type ProducerOperation = 'create' | 'send';

/** A producer span in progress and the trace headers it gives its message. */
export interface ProducerTrace {
  /** What goes into the message's `ce-traceparent` / `ce-tracestate` (and `baggage`) headers. */
  readonly headers: TraceHeaders;
  /** Ends the span, as failed when `error` is given. */
  end(error?: unknown): void;
}

/** How a processed message ended, as reported in metrics (`mailroom.outcome`). */
export type ProcessOutcome = 'ack' | 'retry' | 'dead_letter' | 'duplicate' | 'returned';

/** A process span in progress: the handler runs in its context; settlement and recoverability decisions are recorded on it. */
export interface ProcessTrace {
  /** `trace_id` and `span_id` of the process span (or, without an SDK, of the message's creation context), for log lines. */
  readonly logBindings: Readonly<Record<string, string>>;
  /** Adds what the envelope tells (message id, correlation id) once it is read. */
  describe(envelope: Envelope): void;
  /** Runs `work` with the process span as the active span, so spans and messages made inside are its children. */
  run<T>(work: () => T): T;
  /** Runs a settlement (`ack`, `retry` or `dead_letter`) in a "settle" span. */
  settle(operation: 'ack' | 'retry' | 'dead_letter', work: () => Promise<void>): Promise<void>;
  /** Records a retry decision: a `mailroom.retry` event with the error code and the delay. */
  retried(code: string, delayMs: number, error: unknown): void;
  /** Records a dead-letter decision: a `mailroom.dead_letter` event with the reason code. */
  deadLettered(reason: string, error: unknown): void;
  /** Records that the inbox skipped the message as a duplicate. */
  duplicate(): void;
  /** Ends the span and records the processing metrics. */
  end(): void;
}

const NO_HEADERS: TraceHeaders = Object.freeze({});

function withoutUndefined(headers: { traceparent?: string | undefined; tracestate?: string | undefined }): TraceHeaders {
  if (headers.traceparent === undefined) return NO_HEADERS;
  return headers.tracestate === undefined ? { traceparent: headers.traceparent } : { traceparent: headers.traceparent, tracestate: headers.tracestate };
}

/** The destination a route names: the event type for an event, the owner's queue for a command. */
export function destinationOfRoute(route: Route): string {
  return route.kind === 'event' ? route.type : route.destination;
}

function failSpan(span: Span, error: unknown, code: string | undefined): void {
  if (error instanceof Error) span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
  if (code !== undefined) span.setAttribute(A.errorType, code);
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.name : 'Error';
}

/**
 * Publishes a message that already carries its creation context (written to the outbox, or held
 * until its handler succeeded) inside a "send" span: a `CLIENT` span, child of and linked to that
 * creation context (so the relay hop sits inside the business transaction's trace), counted in
 * `messaging.client.sent.messages`. Returns what `publish` returns, rethrowing its error.
 */
export async function sendTraced(
  telemetry: Telemetry | undefined,
  system: string,
  message: OutgoingMessage,
  publish: () => Promise<void>,
  attributes: Attributes = {},
): Promise<void> {
  if (!telemetry || (!telemetry.tracing() && !telemetry.metering())) return publish();
  const destination = destinationOfRoute(message.route);
  const creation = extractCreationContext(telemetry.propagator, context.active(), message.headers);
  const creationSpan = trace.getSpanContext(creation);
  const spanAttributes: Attributes = {
    [A.system]: system,
    [A.operationType]: 'send',
    [A.operationName]: 'send',
    [A.destinationName]: destination,
    [A.messageType]: message.route.type,
    [A.bodySize]: message.body.byteLength,
  };
  // Assigned, not spread: spreading attribute objects costs microseconds per message (their dotted keys).
  for (const key in attributes) spanAttributes[key] = attributes[key];
  const id = message.headers[HeaderNames.id];
  if (id !== undefined) spanAttributes[A.messageId] = id;
  const conversation = message.headers[HeaderNames.correlationid];
  if (conversation !== undefined) spanAttributes[A.conversationId] = conversation;
  const links: Link[] = creationSpan ? [{ context: creationSpan }] : [];
  const span = telemetry.tracer.startSpan(`send ${destination}`, { kind: SpanKind.CLIENT, attributes: spanAttributes, links }, creation);
  const metricAttributes: Attributes = { [A.system]: system, [A.operationName]: 'send', [A.destinationName]: destination };
  try {
    await context.with(trace.setSpan(creation, span), publish);
    telemetry.instruments().sent.add(1, metricAttributes);
  } catch (error) {
    const code = errorCode(error);
    failSpan(span, error, code);
    metricAttributes[A.errorType] = code;
    telemetry.instruments().sent.add(1, metricAttributes);
    throw error;
  } finally {
    span.end();
  }
}

/**
 * The telemetry of one endpoint: producer spans for what it publishes and sends, a process span per
 * delivery (with settle spans, and retry / dead-letter events), and the messaging metrics. With
 * telemetry switched off every method is a cheap no-op that still passes trace headers on as given.
 */
export class EndpointTelemetry {
  constructor(
    readonly telemetry: Telemetry | undefined,
    private readonly endpoint: string,
    private readonly system: string,
    /** The destination a consumed message of this type came from: its type for an event, this endpoint's queue for a command. */
    private readonly destinationOf: (type: string) => string,
  ) {}

  /**
   * Starts a producer span for a message about to be created (`create`) or sent (`send`), as a child
   * of the active span, else of `parent` (a `traceparent` given with the message), and returns the
   * trace headers the message must carry: the span's context, or `parent` as given when nothing
   * records (no SDK) and no span is active.
   */
  producer(
    operation: ProducerOperation,
    route: Route,
    envelope: Envelope,
    parent: { traceparent?: string | undefined; tracestate?: string | undefined },
  ): ProducerTrace {
    const telemetry = this.telemetry;
    if (!telemetry) return { headers: withoutUndefined(parent), end: NOOP_END };
    let parentContext = context.active();
    // No tracer SDK and no active span: nothing to record, the message carries its parent's context as given.
    if (!telemetry.tracing() && trace.getSpanContext(parentContext) === undefined) {
      const headers = withoutUndefined(parent);
      if (operation !== 'send' || !telemetry.metering()) return { headers, end: NOOP_END };
      const destination = destinationOfRoute(route);
      return {
        headers,
        end: (error?: unknown) => {
          const attributes: Attributes = { [A.system]: this.system, [A.operationName]: 'send', [A.destinationName]: destination };
          if (error !== undefined) attributes[A.errorType] = errorCode(error);
          telemetry.instruments().sent.add(1, attributes);
        },
      };
    }
    if (trace.getSpanContext(parentContext) === undefined && parent.traceparent !== undefined) {
      const carrier: Record<string, string> = { [HeaderNames.traceparent]: parent.traceparent };
      if (parent.tracestate !== undefined) carrier[HeaderNames.tracestate] = parent.tracestate;
      parentContext = extractCreationContext(telemetry.propagator, parentContext, carrier);
    }
    const destination = destinationOfRoute(route);
    const attributes: Attributes = {
      [A.system]: this.system,
      [A.operationType]: operation,
      [A.operationName]: operation,
      [A.destinationName]: destination,
      [A.messageType]: envelope.type,
      [A.messageId]: envelope.id,
      [A.conversationId]: envelope.correlationid,
    };
    const span = telemetry.tracer.startSpan(`${operation} ${destination}`, { kind: SpanKind.PRODUCER, attributes }, parentContext);
    const headers = injectTraceHeaders(telemetry.propagator, trace.setSpan(parentContext, span));
    const metricAttributes: Attributes = { [A.system]: this.system, [A.operationName]: 'send', [A.destinationName]: destination };
    return {
      headers,
      end: (error?: unknown) => {
        if (operation === 'send') {
          const instruments = telemetry.instruments();
          if (error !== undefined) metricAttributes[A.errorType] = errorCode(error);
          instruments.sent.add(1, metricAttributes);
        }
        if (error !== undefined) failSpan(span, error, errorCode(error));
        span.end();
      },
    };
  }

  /**
   * Reports this endpoint's queue as observable gauges (`mailroom.queue.depth`,
   * `mailroom.queue.oldest_message.age` where the transport tells it, `mailroom.queue.dead_letters`),
   * read from `transport.queues()` at each metrics collection. Returns how to stop; undefined
   * (nothing observed) without telemetry or when the transport has no management part ({@link TransportAdmin}).
   */
  observeQueue(transport: MessageTransport): StopObserving | undefined {
    const telemetry = this.telemetry;
    const admin = transportAdmin(transport);
    if (!telemetry || !admin) return undefined;
    const attributes: Attributes = { [A.system]: this.system, [A.endpoint]: this.endpoint };
    return telemetry.observe(
      (instruments) => [instruments.queueDepth, instruments.queueOldestAge, instruments.queueDeadLetters],
      async (record) => {
        const queue = (await admin.queues()).find((info) => info.endpoint === this.endpoint);
        if (!queue) return;
        const instruments = telemetry.instruments();
        record(instruments.queueDepth, queue.depth, attributes);
        record(instruments.queueDeadLetters, queue.deadLetters, attributes);
        if (queue.oldestMessageAgeMs !== undefined) record(instruments.queueOldestAge, queue.oldestMessageAgeMs / 1000, attributes);
      },
    );
  }

  /** Publishes a message carrying its creation context in a "send" span; see {@link sendTraced}. */
  send(message: OutgoingMessage, publish: () => Promise<void>): Promise<void> {
    return sendTraced(this.telemetry, this.system, message, publish);
  }

  /** Starts the process span of a delivery, as a child of (and linked to) the context the message was created in. */
  process(delivery: Delivery): ProcessTrace {
    const telemetry = this.telemetry;
    if (!telemetry) return NOOP_PROCESS;
    // Neither a tracer nor a meter SDK: only the log bindings of the incoming trace context are of use.
    if (!telemetry.tracing() && !telemetry.metering()) return passThroughProcess(delivery.headers[HeaderNames.traceparent]);
    const started = performance.now();
    const type = delivery.headers[HeaderNames.type];
    const destination = typeof type === 'string' && type !== '' ? this.destinationOf(type) : this.endpoint;
    const creation = extractCreationContext(telemetry.propagator, context.active(), delivery.headers);
    const creationSpan = trace.getSpanContext(creation);
    const parent = telemetry.processAsChild ? creation : context.active();
    const attributes: Attributes = {
      [A.system]: this.system,
      [A.operationType]: 'process',
      [A.operationName]: 'process',
      [A.destinationName]: destination,
      [A.consumerGroup]: this.endpoint,
      [A.deliveryAttempt]: delivery.attempt,
      [A.bodySize]: delivery.body.byteLength,
    };
    if (typeof type === 'string') attributes[A.messageType] = type;
    const span = telemetry.tracer.startSpan(
      `process ${destination}`,
      { kind: SpanKind.CONSUMER, attributes, links: creationSpan ? [{ context: creationSpan }] : [] },
      parent,
    );
    const active = trace.setSpan(parent, span);
    const spanContext = span.spanContext();
    const logBindings: Record<string, string> = trace.isSpanContextValid(spanContext) ? { trace_id: spanContext.traceId, span_id: spanContext.spanId } : {};
    const recording = span.isRecording();
    const metricAttributes: Attributes = {
      [A.system]: this.system,
      [A.operationName]: 'process',
      [A.destinationName]: destination,
      [A.consumerGroup]: this.endpoint,
    };
    let outcome: ProcessOutcome = 'returned';
    let failure: string | undefined;
    const fail = (error: unknown, code: string) => {
      failure = code;
      failSpan(span, error, code);
    };
    const system = this.system;
    const tracer = telemetry.tracer;
    async function settleTraced(operation: string, work: () => Promise<void>): Promise<void> {
      const settleSpan = tracer.startSpan(
        `${operation} ${destination}`,
        {
          kind: SpanKind.CLIENT,
          attributes: { [A.system]: system, [A.operationType]: 'settle', [A.operationName]: operation, [A.destinationName]: destination },
        },
        active,
      );
      try {
        await work();
      } catch (error) {
        failSpan(settleSpan, error, errorCode(error));
        throw error;
      } finally {
        settleSpan.end();
      }
    }
    return {
      logBindings,
      describe: (envelope) => {
        if (!recording) return;
        span.setAttribute(A.messageId, envelope.id);
        span.setAttribute(A.conversationId, envelope.correlationid);
      },
      run: (work) => context.with(active, work),
      settle: (operation, work) => {
        if (operation === 'ack') outcome = outcome === 'duplicate' ? 'duplicate' : 'ack';
        return recording ? settleTraced(operation, work) : work();
      },
      retried: (code, delayMs, error) => {
        outcome = 'retry';
        fail(error, code);
        span.addEvent(MessagingEvents.retry, {
          [A.errorType]: code,
          [A.retryDelayMs]: delayMs,
          [A.deliveryAttempt]: delivery.attempt,
          'exception.message': errorMessage(error),
        });
        telemetry.instruments().retries.add(1, withErrorType(metricAttributes, code));
      },
      deadLettered: (reason, error) => {
        outcome = 'dead_letter';
        fail(error, reason);
        span.addEvent(MessagingEvents.deadLetter, { [A.errorType]: reason, [A.deliveryAttempt]: delivery.attempt, 'exception.message': errorMessage(error) });
        telemetry.instruments().deadLetters.add(1, withErrorType(metricAttributes, reason));
      },
      duplicate: () => {
        outcome = 'duplicate';
        span.addEvent(MessagingEvents.duplicate);
        telemetry.instruments().duplicates.add(1, metricAttributes);
      },
      end: () => {
        span.setAttribute(A.outcome, outcome);
        span.end();
        const instruments = telemetry.instruments();
        instruments.consumed.add(1, metricAttributes);
        const durationAttributes: Attributes = {
          [A.system]: this.system,
          [A.operationName]: 'process',
          [A.destinationName]: destination,
          [A.consumerGroup]: this.endpoint,
          [A.outcome]: outcome,
        };
        if (failure !== undefined) durationAttributes[A.errorType] = failure;
        instruments.processDuration.record((performance.now() - started) / 1000, durationAttributes);
      },
    };
  }
}

/** A copy of metric attributes with `error.type` added (assigned, not spread: see {@link sendTraced}). */
function withErrorType(attributes: Attributes, code: string): Attributes {
  const copy: Attributes = {};
  for (const key in attributes) copy[key] = attributes[key];
  copy[A.errorType] = code;
  return copy;
}

const NOOP_END = (): void => undefined;

/** The process trace when nothing records: log bindings from the incoming `traceparent`, nothing else. */
function passThroughProcess(traceparent: string | undefined): ProcessTrace {
  const spanContext = parseTraceparent(traceparent);
  if (!spanContext) return NOOP_PROCESS;
  return { ...NOOP_PROCESS, logBindings: { trace_id: spanContext.traceId, span_id: spanContext.spanId } };
}

const NOOP_PROCESS: ProcessTrace = Object.freeze({
  logBindings: Object.freeze({}),
  describe: () => undefined,
  run: <T>(work: () => T) => work(),
  settle: (_operation: string, work: () => Promise<void>) => work(),
  retried: () => undefined,
  deadLettered: () => undefined,
  duplicate: () => undefined,
  end: () => undefined,
});
