import type * as http from 'node:http';
import type { Http2Session } from 'node:http2';
import type { Socket } from 'node:net';
import { Code, ConnectError, type ConnectRouter, type Interceptor } from '@connectrpc/connect';
import { fastifyConnectPlugin } from '@connectrpc/connect-fastify';
import { createServer as createPolyglotServer } from '@httptoolkit/httpolyglot';
import { createDefaultLogger, type Logger, MailroomError } from '@mailroom/core';
import { CORRELATION_HEADER, currentCorrelation, isTraceparent, isValidCorrelationId, mailroomFastify, withCorrelation } from '@mailroom/http';
import { context, SpanKind, trace } from '@opentelemetry/api';
import Fastify, { type FastifyInstance, type FastifyServerFactory } from 'fastify';
import { v7 as uuidv7 } from 'uuid';
import { RpcErrorCodes } from './errors.js';
import { extractCallContext, failRpcSpan, RpcAttributes, rpcTracer, statusCodeOf } from './rpc-telemetry.js';

/** Options of {@link rpcServerFactory}. */
export interface RpcServerFactoryOptions {
  /** An idle HTTP/2 connection is closed after this long. Default 72 s (Fastify's `http2SessionTimeout`). */
  http2SessionTimeoutMs?: number;
}

/** The server {@link rpcServerFactory} makes, with the two hooks Fastify calls when it closes. */
interface PolyglotServer extends http.Server {
  closeHttp2Sessions(): void;
}

function configError(message: string): MailroomError {
  return new MailroomError(RpcErrorCodes.RPC_CONFIG, message);
}

/**
 * A Fastify `serverFactory` whose one port speaks HTTP/1.1 and cleartext HTTP/2 (h2c, prior
 * knowledge) at once, so gRPC (HTTP/2 only), gRPC-Web and Connect (either) share it. Each
 * connection is sniffed by `@httptoolkit/httpolyglot` and handed to Node's HTTP/1.1 or HTTP/2
 * server. When Fastify closes, idle HTTP/1.1 connections are closed and every HTTP/2 connection
 * gets a GOAWAY: calls in flight finish, no new call starts. TLS is not served (terminate it in front).
 */
export function rpcServerFactory(options: RpcServerFactoryOptions = {}): FastifyServerFactory {
  const sessionTimeoutMs = options.http2SessionTimeoutMs ?? 72_000;
  if (!Number.isSafeInteger(sessionTimeoutMs) || sessionTimeoutMs < 1) {
    throw configError(`rpcServerFactory: http2SessionTimeoutMs must be a whole number >= 1, got ${String(options.http2SessionTimeoutMs)}`);
  }
  return (handler) => {
    const server = createPolyglotServer({}, handler as http.RequestListener);
    const sessions = new Set<Http2Session>();
    // httpolyglot passes listeners on to its inner servers: 'session' comes from the HTTP/2 one.
    server.on('session', (session: Http2Session) => {
      sessions.add(session);
      session.once('close', () => sessions.delete(session));
      session.setTimeout(sessionTimeoutMs, () => session.close());
    });
    // Small RPC messages must leave at once, not wait for Nagle's algorithm.
    server.on('connection', (socket: Socket) => socket.setNoDelay(true));
    const inner = (server as unknown as { _httpServer?: http.Server })._httpServer;
    const polyglot = server as unknown as PolyglotServer;
    if (typeof inner?.closeIdleConnections === 'function') polyglot.closeIdleConnections = () => inner.closeIdleConnections();
    // Fastify calls this when it closes. An HTTP/1.1 connection still busy then is kept alive for
    // keepAliveTimeout once its answer is sent (Node reads it at that moment): make that 1 ms.
    polyglot.closeHttp2Sessions = () => {
      if (inner) inner.keepAliveTimeout = 1;
      for (const session of sessions) session.close();
    };
    return polyglot;
  };
}

/** Options of the {@link rpcRoutes} Fastify plugin. */
export interface RpcRoutesOptions {
  /** Registers the services: `(router) => { router.service(CatalogServiceV1, v1); router.service(CatalogServiceV2, v2); }`. */
  routes: (router: ConnectRouter) => void;
  /** Your server interceptors; they run inside Mailroom's (correlation is set, unexpected errors are mapped after them). */
  interceptors?: Interceptor[];
  /** Largest request message read. Default 4 MiB (gRPC's default). */
  maxRequestBytes?: number;
  /** When the server closes, calls still running after this long are cancelled. Default: they are waited for. */
  shutdownTimeoutMs?: number;
  /** Logs handler failures; default pino at `MAILROOM_LOG_LEVEL`. */
  logger?: Logger;
}

/**
 * The server interceptor that makes each call's correlation id (`x-correlation-id` when valid, else
 * the current one, else a new UUIDv7) and `traceparent` the current correlation for its handler, so
 * messages it publishes and calls it makes carry them; the id is echoed in the response header.
 */
export function correlationServerInterceptor(): Interceptor {
  return (next) => async (request) => {
    const current = currentCorrelation();
    const incoming = request.header.get(CORRELATION_HEADER);
    const correlationId = isValidCorrelationId(incoming) ? incoming : (current?.correlationId ?? uuidv7());
    const traceparent = request.header.get('traceparent');
    const context = { correlationId, traceparent: isTraceparent(traceparent) ? traceparent : current?.traceparent };
    const response = await withCorrelation(context, () => next(request));
    response.header.set(CORRELATION_HEADER, correlationId);
    return response;
  };
}

/**
 * The server interceptor that makes each call a SERVER span named `<service>/<method>` with the RPC
 * semantic conventions' attributes (`rpc.system`, `rpc.service`, `rpc.method`,
 * `rpc.grpc.status_code`), continuing the caller's trace, active while the handler runs (so what it
 * publishes and calls joins that trace). Under `mailroomFastify` (as `createRpcServer` runs it), the
 * HTTP server span of the request is that span, renamed and given the RPC attributes, rather than a
 * second server span; otherwise it starts one from the call's headers (global propagator). Without
 * an OpenTelemetry SDK it costs a no-op span.
 */
export function tracingServerInterceptor(): Interceptor {
  return (next) => async (request) => {
    const service = request.service.typeName;
    const method = request.method.name;
    const attributes = {
      // gRPC and gRPC-Web say so in their content type; anything else here is Connect.
      [RpcAttributes.system]: (request.header.get('content-type') ?? '').startsWith('application/grpc') ? 'grpc' : 'connect_rpc',
      [RpcAttributes.service]: service,
      [RpcAttributes.method]: method,
    };
    const http = trace.getSpan(context.active());
    const own = http === undefined || !http.isRecording();
    const parent = own ? extractCallContext(request.header) : context.active();
    const span = own ? rpcTracer.startSpan(`${service}/${method}`, { kind: SpanKind.SERVER, attributes }, parent) : http;
    if (!own) span.updateName(`${service}/${method}`).setAttributes(attributes);
    try {
      const response = await context.with(trace.setSpan(parent, span), () => next(request));
      span.setAttribute(RpcAttributes.grpcStatusCode, 0);
      return response;
    } catch (error) {
      const code = statusCodeOf(error);
      span.setAttribute(RpcAttributes.grpcStatusCode, code);
      // Per the conventions, a server span is an error for the codes that say the server failed.
      if (SERVER_ERROR_CODES.has(code)) failRpcSpan(span, error instanceof ConnectError ? Code[error.code] : 'Unknown', error);
      throw error;
    } finally {
      if (own) span.end();
    }
  };
}

/** gRPC codes that mark a server span failed (UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS). */
const SERVER_ERROR_CODES = new Set([2, 4, 12, 13, 14, 15]);

/**
 * The server interceptor that answers a handler's unexpected error (anything but a `ConnectError`)
 * with `Code.Internal` and a message holding only `MAILROOM_ERR_RPC_INTERNAL` and the correlation
 * id, never the error's own message; the error is logged with its stack. A `ConnectError` is the
 * handler's answer and passes through unchanged.
 */
export function internalErrorInterceptor(logger: Logger): Interceptor {
  return (next) => async (request) => {
    try {
      return await next(request);
    } catch (error) {
      if (error instanceof ConnectError) throw error;
      const correlationId = currentCorrelation()?.correlationId;
      const rpc = `${request.service.typeName}/${request.method.name}`;
      logger.error({ err: error, correlationId, rpc }, `RPC ${rpc} failed`);
      throw new ConnectError(`${RpcErrorCodes.RPC_INTERNAL}: internal error (correlation id ${correlationId ?? 'none'})`, Code.Internal);
    }
  };
}

/**
 * A Fastify plugin serving Connect services over gRPC, gRPC-Web and Connect (whichever HTTP
 * version the server speaks; see {@link rpcServerFactory}), with Mailroom's server interceptors:
 * correlation ({@link correlationServerInterceptor}) and unexpected errors mapped to `Internal`
 * ({@link internalErrorInterceptor}). Register it in its own context (`app.register(rpcRoutes, ...)`):
 * the Connect content-type parsers it adds stay there. Throws `MAILROOM_ERR_RPC_CONFIG` for bad options.
 */
export async function rpcRoutes(app: FastifyInstance, options: RpcRoutesOptions): Promise<void> {
  if (typeof options?.routes !== 'function') throw configError('rpcRoutes needs routes: (router) => { router.service(Service, implementation) }');
  const maxRequestBytes = options.maxRequestBytes ?? 4 * 1024 * 1024;
  if (!Number.isSafeInteger(maxRequestBytes) || maxRequestBytes < 1) {
    throw configError(`rpcRoutes: maxRequestBytes must be a whole number >= 1, got ${String(options.maxRequestBytes)}`);
  }
  if (options.shutdownTimeoutMs !== undefined && !(Number.isSafeInteger(options.shutdownTimeoutMs) && options.shutdownTimeoutMs >= 0)) {
    throw configError(`rpcRoutes: shutdownTimeoutMs must be a whole number >= 0, got ${String(options.shutdownTimeoutMs)}`);
  }
  const logger = (options.logger ?? createDefaultLogger()).child({ component: 'rpc' });
  await app.register(fastifyConnectPlugin, {
    routes: options.routes,
    interceptors: [tracingServerInterceptor(), correlationServerInterceptor(), internalErrorInterceptor(logger), ...(options.interceptors ?? [])],
    readMaxBytes: maxRequestBytes,
    ...(options.shutdownTimeoutMs !== undefined && { shutdownTimeoutMs: options.shutdownTimeoutMs }),
  });
}

/** Options of {@link createRpcServer}. */
export interface RpcServerOptions extends RpcRoutesOptions, RpcServerFactoryOptions {}

/**
 * Creates a Fastify app serving `routes` over gRPC, gRPC-Web and Connect on one port, HTTP/1.1
 * and cleartext HTTP/2 ({@link rpcServerFactory}), with the Mailroom plugin (`mailroomFastify`:
 * correlation ids, problem+json) and {@link rpcRoutes}. Add your own HTTP routes to it if you
 * like, then `listen`. `close` lets calls in flight finish.
 */
export async function createRpcServer(options: RpcServerOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, serverFactory: rpcServerFactory(options) });
  await app.register(mailroomFastify);
  await app.register(rpcRoutes, options);
  return app as unknown as FastifyInstance;
}
