import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMiddleware } from '@mailroom/core';

/** The correlation of the work in progress: the operation (correlation) id and the W3C trace context. */
export interface CorrelationContext {
  readonly correlationId: string;
  readonly traceparent: string | undefined;
}

/** The HTTP header that carries the correlation id, in and out. */
export const CORRELATION_HEADER = 'x-correlation-id';

const storage = new AsyncLocalStorage<CorrelationContext>();
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;

/**
 * True when `value` can be used as a correlation id taken from outside: 1-128 characters of letters,
 * digits and `. _ : @ -`, starting with a letter or digit (so it is safe in headers, logs and URLs).
 */
export function isValidCorrelationId(value: unknown): value is string {
  return typeof value === 'string' && SAFE_ID.test(value);
}

/** The correlation of the current async context (an HTTP request or a handled message), if any. */
export function currentCorrelation(): CorrelationContext | undefined {
  return storage.getStore();
}

/** Runs `fn` with `context` as the current correlation; the HTTP client propagates it to every call made inside. */
export function withCorrelation<T>(context: CorrelationContext, fn: () => T): T {
  return storage.run(context, fn);
}

/**
 * An endpoint middleware that makes each handled message's correlation id and `traceparent` the
 * current correlation, so HTTP calls made by handlers carry them without passing them by hand.
 */
export function correlationMiddleware(): IncomingMiddleware {
  return (ctx, next) => withCorrelation({ correlationId: ctx.envelope.correlationid, traceparent: ctx.envelope.traceparent }, next);
}
