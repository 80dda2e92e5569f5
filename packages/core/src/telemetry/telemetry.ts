import {
  type Attributes,
  type Counter,
  createNoopMeter,
  type Histogram,
  type Meter,
  type MeterProvider,
  metrics,
  type ObservableGauge,
  ProxyTracerProvider,
  propagation,
  type TextMapPropagator,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { DURATION_BUCKETS_S, MessagingMetrics } from './messaging-attributes.js';

/** The instrumentation scope of Mailroom's tracer and meter. */
export const INSTRUMENTATION_NAME = '@mailroom/core';
/** The tracer provider the API falls back to when no SDK is registered (a singleton of the API). */
const NOOP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();
/** The class of the API's no-op meter. */
const NoopMeter = createNoopMeter().constructor;

/** The version of the instrumentation scope: `@mailroom/core`'s version (a test keeps them equal). */
export const INSTRUMENTATION_VERSION = '0.1.0';

/** The part of a propagator Mailroom uses: the global `propagation` API fits, and so does any `TextMapPropagator`. */
export type Propagator = Pick<TextMapPropagator, 'inject' | 'extract'>;

/** Options of {@link createTelemetry}: each defaults to the global one the application registered with the OpenTelemetry SDK. */
export interface TelemetryOptions {
  /** Where spans go. Default: the global tracer provider (`trace.setGlobalTracerProvider`, or the SDK's `register()`). */
  tracerProvider?: TracerProvider;
  /**
   * Where metrics go. Default: the global meter provider, read when the endpoint starts (the
   * OpenTelemetry metrics API has no proxy: register the SDK's provider before starting endpoints).
   */
  meterProvider?: MeterProvider;
  /** How trace context is written into and read from message headers. Default: the global propagator (W3C trace context with the SDK). */
  propagator?: Propagator;
  /**
   * Whether a consumer's "process" span is a child of the message's creation context (`true`, the
   * default: one business transaction is one trace across services) or starts a trace of its own
   * linked to it (`false`). The span links to the creation context either way.
   */
  processAsChild?: boolean;
}

/** The metric instruments of one meter. */
export interface MessagingInstruments {
  readonly processDuration: Histogram;
  readonly consumed: Counter;
  readonly sent: Counter;
  readonly retries: Counter;
  readonly deadLetters: Counter;
  readonly duplicates: Counter;
  readonly outboxLag: Histogram;
  readonly queueDepth: ObservableGauge;
  readonly queueOldestAge: ObservableGauge;
  readonly queueDeadLetters: ObservableGauge;
  readonly outboxBacklog: ObservableGauge;
  readonly outboxOldestAge: ObservableGauge;
}

function createInstruments(meter: Meter): MessagingInstruments {
  const seconds = { unit: 's', advice: { explicitBucketBoundaries: DURATION_BUCKETS_S } };
  return {
    processDuration: meter.createHistogram(MessagingMetrics.processDuration, { description: 'Duration of processing operation.', ...seconds }),
    consumed: meter.createCounter(MessagingMetrics.consumedMessages, {
      description: 'Number of messages that were delivered to the application.',
      unit: '{message}',
    }),
    sent: meter.createCounter(MessagingMetrics.sentMessages, {
      description: 'Number of messages producer attempted to send to the broker.',
      unit: '{message}',
    }),
    retries: meter.createCounter(MessagingMetrics.retries, {
      description: 'Deliveries whose handler failed and that went back to the queue.',
      unit: '{message}',
    }),
    deadLetters: meter.createCounter(MessagingMetrics.deadLetters, {
      description: 'Messages moved to a dead-letter queue, by reason (error.type).',
      unit: '{message}',
    }),
    duplicates: meter.createCounter(MessagingMetrics.inboxDuplicates, {
      description: 'Deliveries the inbox recognised as already processed (their handler was skipped).',
      unit: '{message}',
    }),
    outboxLag: meter.createHistogram(MessagingMetrics.outboxLag, {
      description: 'Time from writing a message to the outbox to the broker confirming it.',
      ...seconds,
    }),
    queueDepth: meter.createObservableGauge(MessagingMetrics.queueDepth, { description: 'Messages waiting in an endpoint queue.', unit: '{message}' }),
    queueOldestAge: meter.createObservableGauge(MessagingMetrics.queueOldestAge, {
      description: 'Age of the oldest message waiting in an endpoint queue (where the transport can tell).',
      unit: 's',
    }),
    queueDeadLetters: meter.createObservableGauge(MessagingMetrics.queueDeadLetters, {
      description: 'Messages in an endpoint dead-letter queue.',
      unit: '{message}',
    }),
    outboxBacklog: meter.createObservableGauge(MessagingMetrics.outboxBacklog, {
      description: 'Outbox rows not yet confirmed by the broker.',
      unit: '{message}',
    }),
    outboxOldestAge: meter.createObservableGauge(MessagingMetrics.outboxOldestAge, {
      description: 'Age of the oldest outbox row not yet confirmed by the broker.',
      unit: 's',
    }),
  };
}

/** Stops an observation started with {@link Telemetry.observe}. */
export type StopObserving = () => void;

/**
 * Mailroom's instrumentation entry: the tracer, the meter and the propagator every endpoint,
 * relay and transport hop uses, obtained through `@opentelemetry/api` only (the SDK is the
 * application's choice). Without a registered SDK every call is a no-op of the API, except that
 * the `traceparent` of incoming messages is still passed on to the messages their handlers send.
 * Pass one to `createEndpoint({ telemetry })` to use providers other than the global ones, or
 * `telemetry: false` to switch instrumentation off.
 */
export class Telemetry {
  /** Mailroom's tracer, `trace.getTracer('@mailroom/core', version)` of the chosen provider. */
  readonly tracer: Tracer;
  readonly propagator: Propagator;
  readonly processAsChild: boolean;
  private readonly meterProvider: MeterProvider | undefined;
  private readonly tracerProvider: TracerProvider;
  private meteringOf: { provider: MeterProvider; on: boolean } | undefined;
  private instrumentsOf: { provider: MeterProvider; instruments: MessagingInstruments } | undefined;

  constructor(options: TelemetryOptions = {}) {
    this.tracerProvider = options.tracerProvider ?? trace.getTracerProvider();
    this.tracer = this.tracerProvider.getTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
    this.propagator = options.propagator ?? propagation;
    this.meterProvider = options.meterProvider;
    this.processAsChild = options.processAsChild ?? true;
  }

  /**
   * False while the tracer provider is the API's fallback (no SDK registered): spans would be no-ops,
   * so the hot paths skip making them. Checked per message (an identity comparison), so an SDK
   * registered later is used from then on.
   */
  tracing(): boolean {
    const provider = this.tracerProvider;
    return !(provider instanceof ProxyTracerProvider && provider.getDelegate() === NOOP_TRACER_PROVIDER);
  }

  /** False while the meter provider is the API's no-op one (no SDK registered). */
  metering(): boolean {
    const provider = this.meterProvider ?? metrics.getMeterProvider();
    if (this.meteringOf?.provider !== provider) {
      this.meteringOf = { provider, on: !(provider.getMeter(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION) instanceof NoopMeter) };
    }
    return this.meteringOf.on;
  }

  /** The meter of the chosen provider (the global one as it is now, unless one was given). */
  get meter(): Meter {
    return (this.meterProvider ?? metrics.getMeterProvider()).getMeter(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
  }

  /** The instruments on the current meter provider, created once per provider. */
  instruments(): MessagingInstruments {
    const provider = this.meterProvider ?? metrics.getMeterProvider();
    if (this.instrumentsOf?.provider !== provider)
      this.instrumentsOf = { provider, instruments: createInstruments(provider.getMeter(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION)) };
    return this.instrumentsOf.instruments;
  }

  /**
   * Reports observable gauges: `observe` runs at every metrics collection and records values with
   * the `record(gauge, value, attributes)` it is given. A collection waits for it at most
   * `timeoutMs` (default 2000 ms); a failing or late observation records nothing that time.
   */
  observe(
    gauges: (instruments: MessagingInstruments) => ObservableGauge[],
    observe: (record: (gauge: ObservableGauge, value: number, attributes: Attributes) => void) => Promise<void>,
    timeoutMs = 2000,
  ): StopObserving {
    const instruments = this.instruments();
    const observables = gauges(instruments);
    const meter = this.meter;
    const callback = async (result: { observe(gauge: ObservableGauge, value: number, attributes?: Attributes): void }) => {
      const values: [ObservableGauge, number, Attributes][] = [];
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      try {
        await Promise.race([observe((gauge, value, attributes) => values.push([gauge, value, attributes])).catch(() => undefined), late]);
      } finally {
        clearTimeout(timer);
      }
      for (const [gauge, value, attributes] of values) result.observe(gauge, value, attributes);
    };
    meter.addBatchObservableCallback(callback, observables);
    return () => meter.removeBatchObservableCallback(callback, observables);
  }
}

/** Creates a {@link Telemetry} over the given providers (the global ones by default). */
export function createTelemetry(options: TelemetryOptions = {}): Telemetry {
  return new Telemetry(options);
}

let shared: Telemetry | undefined;

/** The telemetry endpoints use when given none: the global tracer provider, meter provider and propagator. */
export function defaultTelemetry(): Telemetry {
  shared ??= new Telemetry();
  return shared;
}
