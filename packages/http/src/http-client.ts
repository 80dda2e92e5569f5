import { createDefaultLogger, errorMessage, type Logger, MailroomError } from '@mailroom/core';
import { type Attributes, type Context, propagation, type Span, SpanKind, trace } from '@opentelemetry/api';
import { isBrokenCircuitError, isBulkheadRejectedError } from 'cockatiel';
import { type Dispatcher, getGlobalDispatcher } from 'undici';
import { BufferedRequestFailure, type BufferedResponse, requestBuffered } from './buffered-request.js';
import { type HttpClientOptions, resolveClientOptions } from './client-options.js';
import { CORRELATION_HEADER, currentCorrelation } from './correlation-context.js';
import { HttpErrorCodes } from './errors.js';
import { countsAgainstBreaker, HttpError, type HttpResponse, IDEMPOTENT_METHODS, isHttpError, isTransientHttpError, isTransientStatus } from './http-error.js';
import { contextOf, failSpan, HttpAttributes, httpInstruments, httpTracer, parentContext } from './http-telemetry.js';
import { type BreakerState, type BreakerStateChange, createResiliencePolicies, type Disposable } from './resilience-policies.js';
import { childTraceparent } from './traceparent.js';

/** An HTTP method the client sends. */
export type HttpMethod = 'GET' | 'HEAD' | 'OPTIONS' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export { IDEMPOTENT_METHODS } from './http-error.js';
export type { BreakerState, BreakerStateChange, Disposable } from './resilience-policies.js';

/** The header carrying a request's idempotency key (IETF draft `Idempotency-Key`). */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

/** One call of {@link HttpClient.request}. */
export interface HttpRequestOptions {
  /** Default `GET`. */
  method?: HttpMethod;
  /** The path under the client's base URL, starting with `/`; may hold a query string. */
  path: string;
  /** Query parameters added to the path's own; `undefined` values are left out. */
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  /** A JSON body: serialized, with `content-type: application/json`. */
  json?: unknown;
  /** A raw body; exclusive with `json`. */
  body?: string | Uint8Array;
  /**
   * Makes a non-idempotent request (POST, PATCH) safe to retry: sent as `Idempotency-Key`, the
   * upstream must deduplicate on it. Without it only idempotent methods are retried.
   */
  idempotencyKey?: string;
  /**
   * Sent as `x-correlation-id`. Default: an `x-correlation-id` in `headers` (the call's, then the
   * client's), else the current correlation (see `withCorrelation`).
   */
  correlationId?: string;
  /**
   * The parent trace context; default the current correlation's. A child span id is sent as
   * `traceparent`, unless `headers` (or the client's headers) hold a `traceparent`, which is sent as it is.
   */
  traceparent?: string;
  /** Aborts the call (`MAILROOM_ERR_HTTP_ABORTED`); not retried, not counted by the breaker. */
  signal?: AbortSignal;
}

/** A retry about to happen, after `delayMs`. */
export interface RetryEvent {
  readonly target: string;
  readonly method: string;
  readonly path: string;
  /** The retry number, 1 for the first retry. */
  readonly attempt: number;
  readonly delayMs: number;
  /** Why the previous attempt failed. */
  readonly error: unknown;
}

/**
 * A resilient HTTP client for one target: every call goes through bulkhead, retry (idempotent
 * methods or requests with an idempotency key only), circuit breaker (cockatiel policies) and a
 * per-attempt timeout that aborts the request. Resolves with the whole response for statuses below 400;
 * otherwise rejects with an {@link HttpError}.
 */
export interface HttpClient {
  readonly name: string;
  /** The current breaker state (`closed` when the breaker is disabled). */
  readonly breakerState: BreakerState;
  /** Sends one request through the policies. */
  request(options: HttpRequestOptions): Promise<HttpResponse>;
  /** Sends one request and parses the response body as JSON (undefined for an empty body). */
  json<T = unknown>(options: HttpRequestOptions): Promise<T>;
  /** Calls `listener` on every breaker state change; returns a handle that stops it. */
  onBreakerStateChange(listener: (change: BreakerStateChange) => void): Disposable;
  /** Calls `listener` before every retry; returns a handle that stops it. */
  onRetry(listener: (event: RetryEvent) => void): Disposable;
}

/** What one call has done so far. */
interface CallInfo {
  method: string;
  path: string;
  /** Safe to send again: an idempotent method or an idempotency key. */
  idempotent: boolean;
  attempts: number;
  lastError: unknown;
  /** The call's client span: retries are recorded on it as `http.retry` events. */
  span: Span;
}

/** The value of the breaker-state gauge for each state. */
const STATE_VALUES: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2, isolated: 3 };

/** Path segments of characters the URL parser keeps as they are (no percent sign, query or fragment). */
const PLAIN_PATH = /^(?:\/[A-Za-z0-9\-._~!$&'()*+,;=:@]*)+$/;
/** A `.` or `..` segment, which the URL parser resolves. */
const DOT_SEGMENT = /\/\.\.?(?:\/|$)/;

function stripQuery(path: string): string {
  const index = path.search(/[?#]/);
  return index === -1 ? path : path.slice(0, index);
}

function makeResponse(status: number, headers: HttpResponse['headers'], body: Buffer, attempts: number): HttpResponse {
  return {
    status,
    headers,
    body,
    attempts,
    text: () => body.toString('utf8'),
    json: <T>() => JSON.parse(body.toString('utf8')) as T,
  };
}

/**
 * Creates an {@link HttpClient} for one target, on undici (the `dispatcher`'s `dispatch()`, else the
 * global dispatcher's, with a handler buffering the answer) with, outermost first: bulkhead, retry
 * with decorrelated-jitter backoff, circuit breaker (cockatiel policies), and a per-attempt timeout
 * (one timer aborting the request through undici's dispatch controller).
 * The breaker and bulkhead are shared by every call of the client. Throws
 * `MAILROOM_ERR_HTTP_CONFIG` for bad options.
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const settings = resolveClientOptions(options);
  const { name } = settings;
  const log: Logger = (options.logger ?? createDefaultLogger()).child({ httpTarget: name });
  const dispatcher = options.dispatcher;
  const policies = createResiliencePolicies(name, settings, { isTransient: isTransientHttpError, countsAgainstBreaker }, log);
  const basePath = settings.baseUrl.pathname.replace(/\/+$/, '');
  // Every request URL is this origin followed by a path, so its host and port are the base URL's.
  const { origin, hostname } = settings.baseUrl;
  const port = Number(settings.baseUrl.port || (settings.baseUrl.protocol === 'https:' ? 443 : 80));
  const retryListeners = new Set<(event: RetryEvent) => void>();
  if (settings.breaker) {
    // The meter holds the callback for the process's life: it keeps only a weak reference to the policies.
    const instruments = httpInstruments();
    const watched = new WeakRef(policies);
    instruments.meter.addBatchObservableCallback(
      (result) => {
        const current = watched.deref();
        if (current) result.observe(instruments.breakerState, STATE_VALUES[current.breakerState], { [HttpAttributes.target]: name });
      },
      [instruments.breakerState],
    );
  }

  /** Retries only a call safe to send again (`info.idempotent`). */
  function pipelineFor(info: CallInfo) {
    return policies.pipeline(info.idempotent, ({ attempt, delayMs, error }) => {
      log.debug({ attempt, delayMs, code: isHttpError(error) ? error.code : undefined }, `retrying ${info.method} ${name}${info.path}`);
      info.span.addEvent('http.retry', {
        [HttpAttributes.resendCount]: attempt,
        'mailroom.retry.delay_ms': delayMs,
        ...(isHttpError(error) && { [HttpAttributes.errorType]: error.code }),
      });
      const retryEvent: RetryEvent = { target: name, method: info.method, path: info.path, attempt, delayMs, error };
      for (const listener of [...retryListeners]) listener(retryEvent);
    });
  }

  /**
   * The request target (path and query) of a call under the base URL: concatenated, never resolved,
   * so a path like `//other.host/x` stays on this target. A plain path without a query is used as it
   * is (the URL parser would leave it unchanged); any other goes through `URL`, which
   * percent-encodes it and resolves its dot segments, and gets the query appended.
   */
  function requestTarget(path: string, query: HttpRequestOptions['query']): string {
    if (typeof path !== 'string' || !path.startsWith('/')) throw new MailroomError(HttpErrorCodes.HTTP_CONFIG, `HTTP client ${name}: path must start with '/'`);
    const full = `${basePath}${path}`;
    if (query === undefined && PLAIN_PATH.test(full) && !DOT_SEGMENT.test(full)) return full;
    const url = new URL(`${origin}${full}`);
    if (query) for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.append(key, String(value));
    return `${url.pathname}${url.search}`;
  }

  function buildHeaders(call: HttpRequestOptions, traceContext: Context, parentTraceparent: string | undefined): Record<string, string> {
    const headers: Record<string, string> = { ...settings.headers };
    if (call.headers) for (const [key, value] of Object.entries(call.headers)) headers[key.toLowerCase()] = value;
    const ambient = currentCorrelation();
    // An x-correlation-id set in `headers` (the call's or the client's) wins over the ambient one.
    const correlationId = call.correlationId ?? headers[CORRELATION_HEADER] ?? ambient?.correlationId;
    if (correlationId !== undefined) headers[CORRELATION_HEADER] = correlationId;
    // A traceparent header set explicitly is sent as it is. Otherwise the global propagator writes the
    // client span's context (W3C trace context with the SDK); without one, a child of the parent is made up.
    if (headers.traceparent === undefined) {
      propagation.inject(traceContext, headers);
      headers.traceparent ??= childTraceparent(parentTraceparent);
    }
    if (call.idempotencyKey !== undefined) headers[IDEMPOTENCY_KEY_HEADER] = call.idempotencyKey;
    if (call.json !== undefined) headers['content-type'] ??= 'application/json';
    return headers;
  }

  /** The fields every error of an attempt of `info` carries. */
  function errorDetails(info: CallInfo) {
    return { target: name, method: info.method, path: info.path, idempotent: info.idempotent, attempts: info.attempts };
  }

  /** The failure of a call its caller aborted (`HTTP_ABORTED`, not transient). */
  function abortedError(info: CallInfo, cause: unknown): HttpError {
    return new HttpError(HttpErrorCodes.HTTP_ABORTED, `${info.method} ${name}${info.path} was aborted by the caller`, {
      ...errorDetails(info),
      transient: false,
      cause,
    });
  }

  /**
   * One attempt under the per-attempt timeout: {@link requestBuffered} reads the whole answer with
   * one timer (and one listener on the caller's `userSignal`, when given), both cleared when the
   * attempt settles, so nothing fires after it returns. The timer or the caller's signal aborts the
   * request and its body; the attempt then fails with `HTTP_TIMEOUT` (transient) or `HTTP_ABORTED`.
   * Every failure is recorded as `info.lastError`.
   */
  async function attempt(
    info: CallInfo,
    target: string,
    headers: Record<string, string>,
    body: string | Uint8Array | undefined,
    userSignal: AbortSignal | undefined,
  ): Promise<HttpResponse> {
    const { method } = info;
    info.attempts += 1;
    let response: BufferedResponse;
    try {
      response = await requestBuffered(dispatcher ?? getGlobalDispatcher(), {
        origin,
        path: target,
        method: method as Dispatcher.HttpMethod,
        headers,
        body,
        timeoutMs: settings.timeoutMs,
        maxResponseBytes: settings.maxResponseBytes,
        signal: userSignal,
      });
    } catch (error) {
      info.lastError = attemptError(error, info);
      throw info.lastError;
    }
    const result = makeResponse(response.statusCode, response.headers, response.body, info.attempts);
    if (response.statusCode >= 400) {
      info.lastError = new HttpError(HttpErrorCodes.HTTP_STATUS, `${method} ${name}${info.path} answered ${response.statusCode}`, {
        ...errorDetails(info),
        status: response.statusCode,
        transient: isTransientStatus(response.statusCode),
        response: result,
      });
      throw info.lastError;
    }
    return result;
  }

  /** A failure of an attempt as an {@link HttpError}: stopped by the timeout, the caller or the body's size, else a network failure. */
  function attemptError(error: unknown, info: CallInfo): HttpError {
    const { method } = info;
    if (error instanceof BufferedRequestFailure) {
      if (error.kind === 'aborted') return abortedError(info, error.cause);
      if (error.kind === 'too-large') {
        return new HttpError(
          HttpErrorCodes.HTTP_RESPONSE_TOO_LARGE,
          `${method} ${name}${info.path}: response body exceeds ${settings.maxResponseBytes} bytes`,
          {
            ...errorDetails(info),
            status: error.status,
            transient: false,
          },
        );
      }
      return new HttpError(HttpErrorCodes.HTTP_TIMEOUT, `${method} ${name}${info.path} timed out after ${settings.timeoutMs} ms`, {
        ...errorDetails(info),
        transient: true,
      });
    }
    return new HttpError(HttpErrorCodes.HTTP_NETWORK, `${method} ${name}${info.path} failed: ${errorMessage(error)}`, {
      ...errorDetails(info),
      transient: true,
      cause: error,
    });
  }

  async function send(call: HttpRequestOptions): Promise<HttpResponse> {
    if (typeof call !== 'object' || call === null)
      throw new MailroomError(HttpErrorCodes.HTTP_CONFIG, `HTTP client ${name}: request() needs an options object`);
    if (call.json !== undefined && call.body !== undefined) {
      throw new MailroomError(HttpErrorCodes.HTTP_CONFIG, `HTTP client ${name}: pass either json or body, not both`);
    }
    const method = (call.method ?? 'GET').toUpperCase();
    const target = requestTarget(call.path, call.query);
    // A traceparent given with the call is its parent; else the active span, else the current correlation's.
    const parentTraceparent = call.traceparent ?? currentCorrelation()?.traceparent;
    const parent = call.traceparent !== undefined ? contextOf(call.traceparent) : parentContext(undefined, parentTraceparent);
    const span = httpTracer.startSpan(
      method,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          [HttpAttributes.method]: method,
          [HttpAttributes.serverAddress]: hostname,
          [HttpAttributes.serverPort]: port,
          [HttpAttributes.urlFull]: `${origin}${stripQuery(target)}`,
          [HttpAttributes.target]: name,
        },
      },
      parent,
    );
    const started = performance.now();
    const headers = buildHeaders(call, trace.setSpan(parent, span), parentTraceparent);
    const body = call.json !== undefined ? JSON.stringify(call.json) : call.body;
    const idempotent = IDEMPOTENT_METHODS.has(method) || call.idempotencyKey !== undefined;
    const info: CallInfo = { method, path: stripQuery(call.path), idempotent, attempts: 0, lastError: undefined, span };
    const finish = (status: number | undefined, code: string | undefined, error?: unknown) => {
      const metricAttributes: Attributes = {
        [HttpAttributes.method]: method,
        [HttpAttributes.serverAddress]: hostname,
        [HttpAttributes.serverPort]: port,
        [HttpAttributes.target]: name,
      };
      if (info.attempts > 1) span.setAttribute(HttpAttributes.resendCount, info.attempts - 1);
      if (status !== undefined) {
        span.setAttribute(HttpAttributes.status, status);
        metricAttributes[HttpAttributes.status] = status;
      }
      if (code !== undefined) {
        failSpan(span, code, error);
        metricAttributes[HttpAttributes.errorType] = code;
      }
      span.end();
      httpInstruments().clientDuration.record((performance.now() - started) / 1000, metricAttributes);
    };
    try {
      const response = await sendThrough(info, target, headers, body, call);
      finish(response.status, undefined);
      return response;
    } catch (error) {
      finish(isHttpError(error) ? error.status : undefined, isHttpError(error) ? error.code : 'Error', error);
      throw error;
    }
  }

  /** Runs a call's attempts through the policies; every failure becomes an {@link HttpError}. */
  async function sendThrough(
    info: CallInfo,
    target: string,
    headers: Record<string, string>,
    body: string | Uint8Array | undefined,
    call: HttpRequestOptions,
  ): Promise<HttpResponse> {
    try {
      return await pipelineFor(info).execute(() => attempt(info, target, headers, body, call.signal), call.signal);
    } catch (error) {
      if (isHttpError(error)) throw error;
      const { method } = info;
      const base = { ...errorDetails(info), cause: info.lastError ?? error };
      if (isBrokenCircuitError(error)) {
        throw new HttpError(HttpErrorCodes.HTTP_CIRCUIT_OPEN, `${method} ${name}${info.path} not sent: the circuit breaker of ${name} is open`, {
          ...base,
          breakerOpen: true,
          transient: true,
        });
      }
      if (isBulkheadRejectedError(error)) {
        throw new HttpError(HttpErrorCodes.HTTP_BULKHEAD_FULL, `${method} ${name}${info.path} not sent: ${name} has too many calls in flight`, {
          ...base,
          transient: true,
        });
      }
      if (call.signal?.aborted) throw abortedError(info, base.cause);
      throw error;
    }
  }

  return {
    name,
    get breakerState() {
      return policies.breakerState;
    },
    request: send,
    async json<T>(call: HttpRequestOptions): Promise<T> {
      const response = await send(call);
      return (response.body.length === 0 ? undefined : response.json<T>()) as T;
    },
    onBreakerStateChange: (listener) => policies.onBreakerStateChange(listener),
    onRetry(listener) {
      retryListeners.add(listener);
      return { dispose: () => retryListeners.delete(listener) };
    },
  };
}
