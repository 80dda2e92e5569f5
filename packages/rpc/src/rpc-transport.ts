import type { DescMessage, DescMethodStreaming, DescMethodUnary, MessageInitShape } from '@bufbuild/protobuf';
import { MethodOptions_IdempotencyLevel } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, type ContextValues, type StreamResponse, type Transport, type UnaryResponse } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { createDefaultLogger, type Logger, MailroomError, redactUrl } from '@mailroom/core';
import {
  type BreakerState,
  type BreakerStateChange,
  CORRELATION_HEADER,
  type CorrelationContext,
  childTraceparent,
  currentCorrelation,
  type Disposable,
} from '@mailroom/http';
import { contextOf, createResiliencePolicies, isTaskCancelled, type PolicyOptions, parentContext, resolvePolicyOptions } from '@mailroom/http/internal';
import { propagation, type Span, SpanKind, trace } from '@opentelemetry/api';
import { isBrokenCircuitError, isBulkheadRejectedError } from 'cockatiel';
import { RpcErrorCodes } from './errors.js';
import { countsAgainstBreaker, isRpcError, isTransientRpcError, type RpcCallInfo, RpcError, toRpcError } from './rpc-error.js';
import { failRpcSpan, RpcAttributes, rpcSystem, rpcTracer } from './rpc-telemetry.js';

/** The wire protocol a transport speaks: gRPC (HTTP/2 only), gRPC-Web, or Connect. */
export type RpcProtocol = 'grpc' | 'grpc-web' | 'connect';

/** The header that makes a call of a method with side effects safe to retry (the server must deduplicate on it). */
export const RPC_IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

/**
 * Options of {@link createRpcTransport}: one target service and its policies. The policy options
 * (`timeoutMs`, `retry`, `breaker`, `bulkhead`) are those of `@mailroom/http`'s client, same defaults.
 */
export interface RpcTransportOptions extends PolicyOptions {
  /** The target's name, used in errors, events and logs (e.g. `inventory`). Letters, digits, `.`, `_`, `-`. */
  name: string;
  /** Where the target lives: `http(s)://host[:port][/base/path]`. Required unless `transport` is given. */
  baseUrl?: string;
  /** Default `grpc`. */
  protocol?: RpcProtocol;
  /** Default `2`; `1.1` only for `connect` and `grpc-web` (gRPC needs HTTP/2). */
  httpVersion?: '2' | '1.1';
  /** Headers sent with every call (an `authorization` header, say); never logged nor put in errors. */
  headers?: Record<string, string>;
  /** Largest response message read. Default 10 MiB. */
  maxResponseBytes?: number;
  /**
   * Your own Connect transport to wrap instead of one built from `baseUrl` (a transport with your
   * TLS settings, interceptors, or an in-memory router transport). `protocol`, `httpVersion` and
   * `maxResponseBytes` are then yours to set on it.
   */
  transport?: Transport;
  /** Logs breaker state changes and retries; default pino at `MAILROOM_LOG_LEVEL`. */
  logger?: Logger;
}

/** A retry about to happen, after `delayMs`. */
export interface RpcRetryEvent {
  readonly target: string;
  readonly service: string;
  readonly method: string;
  /** The retry number, 1 for the first retry. */
  readonly attempt: number;
  readonly delayMs: number;
  /** Why the previous attempt failed (an {@link RpcError}). */
  readonly error: unknown;
}

/**
 * A Connect `Transport` for one target with Mailroom's policies: pass it to `createClient` of
 * `@connectrpc/connect` to get a typed client. Every unary call goes through bulkhead, retry
 * (idempotent methods only), circuit breaker and a per-attempt timeout, the same cockatiel
 * policies as `@mailroom/http`'s client, and carries the current correlation id and a child
 * `traceparent`. Failures reject with an {@link RpcError}.
 */
export interface RpcTransport extends Transport {
  readonly name: string;
  /** The current breaker state (`closed` when the breaker is disabled). */
  readonly breakerState: BreakerState;
  /** Calls `listener` on every breaker state change; returns a handle that stops it. */
  onBreakerStateChange(listener: (change: BreakerStateChange) => void): Disposable;
  /** Calls `listener` before every retry; returns a handle that stops it. */
  onRetry(listener: (event: RpcRetryEvent) => void): Disposable;
  /** Closes the HTTP/2 connection of a transport built from `baseUrl` (calls in flight fail); a no-op otherwise. */
  close(): void;
}

/** True when `error` is the deadline of an attempt of `ms` started at `started` running out on this side (Connect's own `DeadlineExceeded`). */
function ranOutLocally(error: unknown, started: number, ms: number): boolean {
  return error instanceof ConnectError && error.code === Code.DeadlineExceeded && performance.now() - started >= ms - 1;
}

/** The headers a call may carry (the fetch API's `HeadersInit`, as Connect's `Transport` takes them). */
type CallHeaders = Parameters<Transport['unary']>[3];

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

function configError(message: string): MailroomError {
  return new MailroomError(RpcErrorCodes.RPC_CONFIG, message);
}

interface InnerTransport {
  transport: Transport;
  sessions: Http2SessionManager | undefined;
}

/**
 * Connect's HTTP/2 session manager, with every session it opens guarded by an `error` listener.
 * Connect 2.1.2 destroys an idle session that received a GOAWAY with an error Node emits only once
 * the socket has closed; when a call in between made the manager reconnect, its listeners are gone
 * and that error crashed the process (connectrpc/connect-es#1768, fixed the same way in #1769).
 * Errors still reach the calls through their streams.
 */
class GuardedSessionManager extends Http2SessionManager {
  readonly #guarded = new WeakSet<object>();

  override async request(...args: Parameters<Http2SessionManager['request']>): ReturnType<Http2SessionManager['request']> {
    const stream = await super.request(...args);
    const session = stream.session;
    if (session && !this.#guarded.has(session)) {
      this.#guarded.add(session);
      session.on('error', () => undefined);
    }
    return stream;
  }
}

function buildInner(options: RpcTransportOptions, prefix: string): InnerTransport {
  if (options.transport !== undefined) {
    if (typeof options.transport?.unary !== 'function') throw configError(`${prefix} transport must be a Connect Transport (with unary and stream)`);
    return { transport: options.transport, sessions: undefined };
  }
  let url: URL;
  try {
    url = new URL(String(options.baseUrl));
  } catch {
    throw configError(
      `${prefix} baseUrl ${JSON.stringify(redactUrl(String(options.baseUrl)))} is not an absolute URL; use http(s)://host:port (or pass transport)`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw configError(`${prefix} baseUrl must use http: or https:, got ${url.protocol}`);
  if (url.search || url.hash) throw configError(`${prefix} baseUrl must not have a query or fragment`);
  const protocol = options.protocol ?? 'grpc';
  if (protocol !== 'grpc' && protocol !== 'grpc-web' && protocol !== 'connect') {
    throw configError(`${prefix} protocol must be 'grpc', 'grpc-web' or 'connect', got ${JSON.stringify(protocol)}`);
  }
  const httpVersion = options.httpVersion ?? '2';
  if (httpVersion !== '2' && httpVersion !== '1.1') throw configError(`${prefix} httpVersion must be '2' or '1.1', got ${JSON.stringify(httpVersion)}`);
  if (protocol === 'grpc' && httpVersion !== '2') throw configError(`${prefix} gRPC needs HTTP/2: set httpVersion '2' or protocol 'connect'`);
  const maxResponseBytes = options.maxResponseBytes ?? 10 * 1024 * 1024;
  if (!Number.isSafeInteger(maxResponseBytes) || maxResponseBytes < 1) {
    throw configError(`${prefix} maxResponseBytes must be a whole number >= 1, got ${String(maxResponseBytes)}`);
  }
  const baseUrl = url.href.replace(/\/+$/, '');
  const common = { baseUrl, readMaxBytes: maxResponseBytes };
  if (httpVersion === '1.1') {
    const transport = protocol === 'connect' ? createConnectTransport({ ...common, httpVersion }) : createGrpcWebTransport({ ...common, httpVersion });
    return { transport, sessions: undefined };
  }
  const sessions = new GuardedSessionManager(baseUrl);
  const create = protocol === 'grpc' ? createGrpcTransport : protocol === 'grpc-web' ? createGrpcWebTransport : createConnectTransport;
  return { transport: create({ ...common, httpVersion, sessionManager: sessions }), sessions };
}

/**
 * Creates an {@link RpcTransport} for one target: a Connect transport for `baseUrl` over
 * `protocol` (gRPC on HTTP/2 by default), or your own `transport`, wrapped in cockatiel policies
 * (outermost first): bulkhead, retry with decorrelated-jitter backoff, circuit breaker, then the
 * per-attempt timeout (Connect's deadline; plus a cockatiel timeout around your own `transport`).
 * The breaker and bulkhead are shared by every call (and every client) on the transport. Only
 * methods declared `idempotency_level = NO_SIDE_EFFECTS` or `IDEMPOTENT` in their proto, or calls
 * with an `idempotency-key` header, are retried. A call's own `timeoutMs` is a deadline for the whole
 * call, retries included; each attempt also stops after the transport's `timeoutMs` and sends the
 * time it has left to the server (`grpc-timeout`). Streaming calls are passed through with the
 * correlation headers only (no policies). Throws `MAILROOM_ERR_RPC_CONFIG` for bad options.
 */
export function createRpcTransport(options: RpcTransportOptions): RpcTransport {
  if (typeof options !== 'object' || options === null) throw configError('createRpcTransport needs an options object with at least name and baseUrl');
  const { name } = options;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw configError(`RPC transport name ${JSON.stringify(name)} is invalid: use letters, digits, '.', '_', '-' (at most 100 characters)`);
  }
  const prefix = `RPC transport ${name}:`;
  const settings = resolvePolicyOptions(options, prefix, configError);
  const fixedHeaders: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.headers ?? {})) {
    if (typeof value !== 'string') throw configError(`${prefix} header ${JSON.stringify(key)} must be a string`);
    fixedHeaders[key.toLowerCase()] = value;
  }
  const { transport: inner, sessions } = buildInner(options, prefix);
  // Only a transport of the user's gets a cockatiel timeout around each attempt (see attempt()).
  const guardTimeout = options.transport !== undefined;
  const server = options.baseUrl === undefined ? undefined : new URL(options.baseUrl);
  const log: Logger = (options.logger ?? createDefaultLogger()).child({ rpcTarget: name });
  // Failures that end a call whatever the retry policy says: its deadline has passed. One made
  // before an attempt was sent does not say anything about the target either.
  const final = new WeakSet<object>();
  const notSent = new WeakSet<object>();
  const policies = createResiliencePolicies(
    name,
    settings,
    {
      isTransient: (error) => isTransientRpcError(error) && !final.has(error),
      countsAgainstBreaker: (error) => countsAgainstBreaker(error) && !notSent.has(error as object),
    },
    log,
  );
  const retryListeners = new Set<(event: RpcRetryEvent) => void>();

  /** The call's headers: the transport's, the call's, then the correlation id of `ambient` unless set. */
  function callHeaders(header: CallHeaders, ambient: CorrelationContext | undefined): Record<string, string> {
    const headers: Record<string, string> = { ...fixedHeaders };
    if (header instanceof Headers) {
      header.forEach((value, key) => {
        headers[key] = value;
      });
    } else if (Array.isArray(header)) {
      for (const [key, value] of header) if (key !== undefined && value !== undefined) headers[key.toLowerCase()] = value;
    } else if (header !== undefined) {
      for (const [key, value] of Object.entries(header as Record<string, string | readonly string[]>)) {
        headers[key.toLowerCase()] = typeof value === 'string' ? value : value.join(', ');
      }
    }
    if (headers[CORRELATION_HEADER] === undefined && ambient !== undefined) headers[CORRELATION_HEADER] = ambient.correlationId;
    return headers;
  }

  /**
   * Starts the call's CLIENT span (RPC semantic conventions) under the active span, else the current
   * correlation's traceparent, and writes its context into the headers through the global
   * propagator; without one, a child traceparent of the parent is made up. A `traceparent` header
   * the caller set is sent as it is, and is the span's parent.
   */
  function startClientSpan(method: DescMethodUnary<DescMessage, DescMessage>, headers: Record<string, string>, ambient: string | undefined): Span {
    const explicit = headers.traceparent;
    const parent = explicit !== undefined ? contextOf(explicit) : parentContext(undefined, ambient);
    const span = rpcTracer.startSpan(`${method.parent.typeName}/${method.name}`, { kind: SpanKind.CLIENT, attributes: spanAttributes(method) }, parent);
    if (explicit === undefined) {
      propagation.inject(trace.setSpan(parent, span), headers);
      headers.traceparent ??= childTraceparent(ambient);
    }
    return span;
  }

  /** The span attributes of a method's calls, built once per method (they only name the method and target). */
  const attributesByMethod = new WeakMap<object, Readonly<Record<string, string | number>>>();
  function spanAttributes(method: DescMethodUnary<DescMessage, DescMessage>): Readonly<Record<string, string | number>> {
    const known = attributesByMethod.get(method);
    if (known !== undefined) return known;
    const attributes: Record<string, string | number> = {
      [RpcAttributes.system]: rpcSystem(options.protocol ?? 'grpc'),
      [RpcAttributes.service]: method.parent.typeName,
      [RpcAttributes.method]: method.name,
      [RpcAttributes.target]: name,
    };
    if (server) {
      attributes[RpcAttributes.serverAddress] = server.hostname;
      attributes[RpcAttributes.serverPort] = Number(server.port || (server.protocol === 'https:' ? 443 : 80));
    }
    attributesByMethod.set(method, attributes);
    return attributes;
  }

  /** Ends a call's span with its outcome: gRPC status 0, or the failure's code and `error.type` (its `MAILROOM_ERR_*` code). */
  function endClientSpan(span: Span, attempts: number, error?: unknown): void {
    if (attempts > 1) span.setAttribute(RpcAttributes.resendCount, attempts - 1);
    if (error === undefined) span.setAttribute(RpcAttributes.grpcStatusCode, 0);
    else {
      const code = isRpcError(error) ? error.rpcCode : undefined;
      if (code !== undefined) span.setAttribute(RpcAttributes.grpcStatusCode, code);
      failRpcSpan(span, isRpcError(error) ? error.code : 'Error', error);
    }
    span.end();
  }

  async function unary<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    header: CallHeaders,
    input: MessageInitShape<I>,
    contextValues?: ContextValues,
  ): Promise<UnaryResponse<I, O>> {
    const ambient = currentCorrelation();
    const headers = callHeaders(header, ambient);
    const span = startClientSpan(method as DescMethodUnary<DescMessage, DescMessage>, headers, ambient?.traceparent);
    const idempotent = method.idempotency !== MethodOptions_IdempotencyLevel.IDEMPOTENCY_UNKNOWN || headers[RPC_IDEMPOTENCY_KEY_HEADER] !== undefined;
    const info: RpcCallInfo = { target: name, service: method.parent.typeName, method: method.name, idempotent, attempts: 0 };
    const what = `${name} ${info.service}/${info.method}`;
    const deadline = timeoutMs !== undefined && timeoutMs > 0 ? performance.now() + timeoutMs : undefined;
    const aborted = (cause: unknown) => new RpcError(RpcErrorCodes.RPC_ABORTED, `${what} was cancelled by the caller`, { ...info, transient: false, cause });
    const timedOut = (ms: number, cause: unknown) =>
      new RpcError(RpcErrorCodes.RPC_TIMEOUT, `${what} timed out after ${Math.round(ms)} ms`, { ...info, transient: true, cause });
    let lastError: unknown;

    const attempt = async (): Promise<UnaryResponse<I, O>> => {
      const ms = deadline === undefined ? settings.timeoutMs : Math.min(settings.timeoutMs, Math.floor(deadline - performance.now()));
      if (ms <= 0) {
        const late = timedOut(timeoutMs ?? 0, lastError);
        final.add(late);
        notSent.add(late);
        throw late;
      }
      info.attempts += 1;
      const started = performance.now();
      let attemptSignal: AbortSignal | undefined;
      try {
        // Connect's transports stop the attempt themselves at `ms` (their deadline timer cancels the
        // HTTP/2 stream and sends grpc-timeout); a second, cockatiel timer only guards a transport of
        // the user's, which need not honour timeoutMs. One timer per attempt instead of two.
        if (!guardTimeout) return await inner.unary(method, signal, ms, headers, input, contextValues);
        return await policies.timeoutOf(ms).execute(({ signal: guarded }) => {
          attemptSignal = guarded;
          return inner.unary(method, guarded, ms, headers, input, contextValues);
        }, signal);
      } catch (error) {
        const failure = signal?.aborted
          ? aborted(error)
          : attemptSignal?.aborted || isTaskCancelled(error) || ranOutLocally(error, started, ms)
            ? timedOut(ms, error)
            : toRpcError(error, info);
        if (deadline !== undefined && performance.now() >= deadline - 1) final.add(failure);
        lastError = failure;
        throw failure;
      }
    };

    const pipeline = policies.pipeline(idempotent, ({ attempt: retry, delayMs, error }) => {
      log.debug({ attempt: retry, delayMs, code: isRpcError(error) ? error.code : undefined }, `retrying ${what}`);
      span.addEvent('rpc.retry', {
        [RpcAttributes.resendCount]: retry,
        'mailroom.retry.delay_ms': delayMs,
        ...(isRpcError(error) && { [RpcAttributes.errorType]: error.code }),
      });
      const event: RpcRetryEvent = { target: name, service: info.service, method: info.method, attempt: retry, delayMs, error };
      for (const listener of [...retryListeners]) listener(event);
    });
    try {
      const response = await pipeline.execute(attempt, signal);
      endClientSpan(span, info.attempts);
      return response;
    } catch (thrown) {
      const error = typed(thrown);
      endClientSpan(span, info.attempts, error);
      throw error;
    }

    /** Any failure of the pipeline as an {@link RpcError}. */
    function typed(error: unknown): unknown {
      if (isRpcError(error)) return error;
      const base = { ...info, cause: lastError ?? error };
      if (isBrokenCircuitError(error)) {
        return new RpcError(RpcErrorCodes.RPC_CIRCUIT_OPEN, `${what} not sent: the circuit breaker of ${name} is open`, {
          ...base,
          breakerOpen: true,
          transient: true,
        });
      }
      if (isBulkheadRejectedError(error)) {
        return new RpcError(RpcErrorCodes.RPC_BULKHEAD_FULL, `${what} not sent: ${name} has too many calls in flight`, { ...base, transient: true });
      }
      if (signal?.aborted) return aborted(error);
      return error;
    }
  }

  function stream<I extends DescMessage, O extends DescMessage>(
    method: DescMethodStreaming<I, O>,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    header: CallHeaders,
    input: AsyncIterable<MessageInitShape<I>>,
    contextValues?: ContextValues,
  ): Promise<StreamResponse<I, O>> {
    const ambient = currentCorrelation();
    const headers = callHeaders(header, ambient);
    headers.traceparent ??= childTraceparent(ambient?.traceparent);
    return inner.stream(method, signal, timeoutMs, headers, input, contextValues);
  }

  return {
    name,
    get breakerState() {
      return policies.breakerState;
    },
    unary,
    stream,
    onBreakerStateChange: (listener) => policies.onBreakerStateChange(listener),
    onRetry(listener) {
      retryListeners.add(listener);
      return { dispose: () => retryListeners.delete(listener) };
    },
    close() {
      sessions?.abort();
    },
  };
}
