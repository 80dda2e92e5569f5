import { DURATION_BUCKETS_S, parseTraceparent } from '@mailroom/core';
import {
  type Attributes,
  type Context,
  type Counter,
  context,
  type Histogram,
  type Meter,
  type MeterProvider,
  metrics,
  type ObservableGauge,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { currentCorrelation } from './correlation-context.js';

/** The instrumentation scope of `@mailroom/http`'s spans and metrics. */
export const HTTP_INSTRUMENTATION_NAME = '@mailroom/http';
/** Its version: `@mailroom/http`'s version. */
export const HTTP_INSTRUMENTATION_VERSION = '0.1.0';

/** The attribute names of HTTP spans and metrics (the OpenTelemetry HTTP semantic conventions, plus Mailroom's target name). */
export const HttpAttributes = {
  method: 'http.request.method',
  route: 'http.route',
  status: 'http.response.status_code',
  resendCount: 'http.request.resend_count',
  urlPath: 'url.path',
  urlFull: 'url.full',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  errorType: 'error.type',
  /** The name of the client's target (`createHttpClient({ name })`). */
  target: 'mailroom.http.target',
} as const;

/** The metric names `@mailroom/http` records. */
export const HttpMetrics = {
  serverDuration: 'http.server.request.duration',
  clientDuration: 'http.client.request.duration',
  /** 0 closed, 1 half-open, 2 open, 3 isolated. */
  breakerState: 'mailroom.http.client.breaker.state',
  /** Operations that reached a final state (`mailroom.operation.state`: completed, failed, timed-out). */
  operationsFinished: 'mailroom.operations.finished',
  /** Time from an operation's start to its final state. */
  operationDuration: 'mailroom.operation.duration',
} as const;

/** The tracer of `@mailroom/http` on the global tracer provider (a proxy: an SDK registered later is used). */
export const httpTracer = trace.getTracer(HTTP_INSTRUMENTATION_NAME, HTTP_INSTRUMENTATION_VERSION);

interface HttpInstruments {
  readonly serverDuration: Histogram;
  readonly clientDuration: Histogram;
  readonly breakerState: ObservableGauge;
  readonly operationsFinished: Counter;
  readonly operationDuration: Histogram;
  readonly meter: Meter;
}

let instrumentsOf: { provider: MeterProvider; instruments: HttpInstruments } | undefined;

/** The HTTP instruments on the global meter provider as it is now, created once per provider. */
export function httpInstruments(): HttpInstruments {
  const provider = metrics.getMeterProvider();
  if (instrumentsOf?.provider !== provider) {
    const meter = provider.getMeter(HTTP_INSTRUMENTATION_NAME, HTTP_INSTRUMENTATION_VERSION);
    const seconds = { unit: 's', advice: { explicitBucketBoundaries: DURATION_BUCKETS_S } };
    instrumentsOf = {
      provider,
      instruments: {
        meter,
        serverDuration: meter.createHistogram(HttpMetrics.serverDuration, { description: 'Duration of HTTP server requests.', ...seconds }),
        clientDuration: meter.createHistogram(HttpMetrics.clientDuration, { description: 'Duration of HTTP client requests.', ...seconds }),
        breakerState: meter.createObservableGauge(HttpMetrics.breakerState, {
          description: "State of an HTTP client's circuit breaker: 0 closed, 1 half-open, 2 open, 3 isolated.",
        }),
        operationsFinished: meter.createCounter(HttpMetrics.operationsFinished, {
          description: 'Operations that reached a final state, by operation and state.',
          unit: '{operation}',
        }),
        operationDuration: meter.createHistogram(HttpMetrics.operationDuration, {
          description: "Time from an operation's start to its final state.",
          unit: 's',
          advice: { explicitBucketBoundaries: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800] },
        }),
      },
    };
  }
  return instrumentsOf.instruments;
}

/**
 * The context an HTTP exchange continues: the active one when a span is active (an HTTP
 * instrumentation's, a handled message's), else the one a `traceparent` names (read with the global
 * propagator from `headers`, or parsed from `traceparent` when no propagator is registered).
 */
export function parentContext(headers: Record<string, unknown> | undefined, traceparent: string | undefined): Context {
  const active = context.active();
  if (trace.getSpanContext(active) !== undefined) return active;
  const extracted = headers ? propagation.extract(active, headers) : active;
  if (trace.getSpanContext(extracted) !== undefined) return extracted;
  const spanContext = parseTraceparent(traceparent);
  return spanContext ? trace.setSpanContext(active, spanContext) : active;
}

/** The context a `traceparent` names (parsed, so it works without a propagator), over the active one; the active one when it is malformed. */
export function contextOf(traceparent: string): Context {
  const spanContext = parseTraceparent(traceparent);
  return spanContext ? trace.setSpanContext(context.active(), spanContext) : context.active();
}

/** Marks a span failed with an error code (`error.type`). */
export function failSpan(span: Span, code: string, error?: unknown): void {
  if (error instanceof Error) span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, ...(error instanceof Error && { message: error.message }) });
  span.setAttribute(HttpAttributes.errorType, code);
}

/**
 * The trace id of the work in progress: the active span's, else the current correlation's
 * `traceparent`. What to show a user (a `202 Accepted` body) to find the trace later.
 */
export function currentTraceId(): string | undefined {
  const active = trace.getSpanContext(context.active());
  if (active && trace.isSpanContextValid(active)) return active.traceId;
  return parseTraceparent(currentCorrelation()?.traceparent)?.traceId;
}

/** Starts the server span of a request unless a span (an HTTP instrumentation's) is active already. */
export function startServerSpan(
  method: string,
  route: string | undefined,
  path: string,
  headers: Record<string, unknown>,
  traceparent: string | undefined,
): { span: Span | undefined; context: Context } {
  const active = context.active();
  if (trace.getSpan(active)?.isRecording()) return { span: undefined, context: active };
  const parent = parentContext(headers, traceparent);
  const attributes: Attributes = { [HttpAttributes.method]: method, [HttpAttributes.urlPath]: path };
  if (route !== undefined) attributes[HttpAttributes.route] = route;
  const span = httpTracer.startSpan(route === undefined ? method : `${method} ${route}`, { kind: SpanKind.SERVER, attributes }, parent);
  return { span, context: trace.setSpan(parent, span) };
}
