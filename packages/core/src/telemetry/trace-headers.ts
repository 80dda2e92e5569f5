import { type Context, isSpanContextValid, type SpanContext, type TextMapGetter, type TextMapSetter, TraceFlags, trace } from '@opentelemetry/api';
import { HeaderNames, type Headers, TRACEPARENT_PATTERN } from '../envelope.js';
import type { Propagator } from './telemetry.js';

/** W3C names a propagator uses mapped to the CloudEvents binary-mode headers that carry them (other keys, such as `baggage`, keep their name). */
const TO_HEADER: Readonly<Record<string, string>> = { traceparent: HeaderNames.traceparent, tracestate: HeaderNames.tracestate };
const FROM_HEADER: Readonly<Record<string, string>> = { [HeaderNames.traceparent]: 'traceparent', [HeaderNames.tracestate]: 'tracestate' };

/**
 * The setter a propagator writes message headers with: `traceparent` and `tracestate` go into the
 * CloudEvents distributed-tracing attributes `ce-traceparent` and `ce-tracestate`.
 */
export const headerSetter: TextMapSetter<Headers> = {
  set(carrier, key, value) {
    carrier[TO_HEADER[key] ?? key] = value;
  },
};

/** The getter a propagator reads message headers with: the inverse of {@link headerSetter}. */
export const headerGetter: TextMapGetter<Headers> = {
  get(carrier, key) {
    return carrier[TO_HEADER[key] ?? key];
  },
  keys(carrier) {
    return Object.keys(carrier).map((key) => FROM_HEADER[key] ?? key);
  },
};

/** The trace headers a producer span gives a message. */
export interface TraceHeaders {
  traceparent?: string;
  tracestate?: string;
  [other: string]: string | undefined;
}

/** Formats a span context as a W3C `traceparent` (version 00). */
export function formatTraceparent(spanContext: SpanContext): string {
  return `00-${spanContext.traceId}-${spanContext.spanId}-${(spanContext.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? '01' : '00'}`;
}

/** Parses a W3C `traceparent` into a remote span context; undefined when malformed or all-zero. */
export function parseTraceparent(value: string | undefined): SpanContext | undefined {
  if (value === undefined) return undefined;
  const match = TRACEPARENT_PATTERN.exec(value);
  if (!match || match[1] === 'ff') return undefined;
  const spanContext: SpanContext = {
    traceId: match[2] as string,
    spanId: match[3] as string,
    traceFlags: Number.parseInt(match[4] as string, 16) & TraceFlags.SAMPLED,
    isRemote: true,
  };
  return isSpanContextValid(spanContext) ? spanContext : undefined;
}

/**
 * The context a message was created in, read from its headers with `propagator` (the global one
 * by default). Without a propagator that understands them (no SDK registered), the `ce-traceparent`
 * header is still read, so trace ids keep flowing and show in logs.
 */
export function extractCreationContext(propagator: Propagator, parent: Context, headers: Headers): Context {
  const extracted = propagator.extract(parent, headers, headerGetter);
  if (trace.getSpanContext(extracted) !== undefined) return extracted;
  const spanContext = parseTraceparent(headers[HeaderNames.traceparent]);
  return spanContext ? trace.setSpanContext(parent, spanContext) : extracted;
}

/**
 * Writes the span context of `ctx` into fresh trace headers with `propagator`. When the propagator
 * wrote no `traceparent` (none registered) but the context holds a valid span context, the
 * `traceparent` is formatted from it: a message always carries the trace it belongs to.
 */
export function injectTraceHeaders(propagator: Propagator, ctx: Context): TraceHeaders {
  const carrier: Headers = {};
  propagator.inject(ctx, carrier, headerSetter);
  const headers: TraceHeaders = {};
  for (const [key, value] of Object.entries(carrier)) headers[FROM_HEADER[key] ?? key] = value;
  if (headers.traceparent === undefined) {
    const spanContext = trace.getSpanContext(ctx);
    if (spanContext && isSpanContextValid(spanContext)) headers.traceparent = formatTraceparent(spanContext);
  }
  return headers;
}
