import { MailroomError } from '@mailroom/core';
import { type Context, context, type Span, SpanStatusCode } from '@opentelemetry/api';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import { v7 as uuidv7 } from 'uuid';
import { CORRELATION_HEADER, type CorrelationContext, isValidCorrelationId, withCorrelation } from './correlation-context.js';
import { HttpErrorCodes } from './errors.js';
import { HttpAttributes, httpInstruments, startServerSpan } from './http-telemetry.js';
import { PROBLEM_CONTENT_TYPE, type ProblemDetails, problemFromError } from './problem.js';
import { isTraceparent } from './traceparent.js';
import { API_VERSION_CONSTRAINT, apiVersionStrategy } from './versioned-route.js';

/** Options of the {@link mailroomFastify} plugin. */
export interface MailroomFastifyOptions {
  /** The header carrying the correlation id in and out. Default `x-correlation-id`. */
  correlationHeader?: string;
  /** Where operations are served: `reply.accepted(id)` answers `Location: <operationsPath>/<id>`. Default `/operations`. */
  operationsPath?: string;
  /** Problem `type` = this base + the error code (e.g. `https://docs.example.com/errors#`); default `about:blank`. */
  problemTypeBase?: string;
  /** Status overrides by error code for problem responses. */
  statusByCode?: Record<string, number>;
}

/** The body of a `202 Accepted` answer made by `reply.accepted`. */
export interface AcceptedBody {
  readonly operationId: string;
  readonly status: 'pending';
  /** The operation's status URL (same as `Location`). */
  readonly href: string;
  /** Its Server-Sent Events stream. */
  readonly events: string;
  readonly [extra: string]: unknown;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's correlation id: the valid incoming `x-correlation-id`, else a new UUIDv7. */
    correlationId: string;
    /** The incoming W3C `traceparent`, when well-formed. */
    traceparent: string | undefined;
  }
  interface FastifyReply {
    /** Answers `202 Accepted` with `Location: <operationsPath>/<id>` and an {@link AcceptedBody}. */
    accepted(operationId: string, extra?: Record<string, unknown>): FastifyReply;
    /** Answers with problem details (`application/problem+json`), filling in instance and correlation id. */
    problem(problem: ProblemDetails): FastifyReply;
  }
}

function pathOf(url: string): string {
  const index = url.indexOf('?');
  return index === -1 ? url : url.slice(0, index);
}

/**
 * The Mailroom conventions for a Fastify app, registered once at the root: a correlation id on
 * every request (taken from `x-correlation-id` when valid, else new) echoed on every response and
 * made the current correlation for the HTTP client and the bus; problem+json (RFC 9457) for every
 * error, including validation errors and unknown routes, never exposing internals of 5xx errors;
 * `reply.accepted(operationId)` for `202 Accepted`; and the `apiVersion` route constraint used by
 * `versionedRoute`.
 */
export const mailroomFastify = fastifyPlugin(
  async (app: FastifyInstance, options: MailroomFastifyOptions) => {
    const header = (options.correlationHeader ?? CORRELATION_HEADER).toLowerCase();
    const operationsPath = (options.operationsPath ?? '/operations').replace(/\/+$/, '');
    if (!/^[a-z0-9-]{1,64}$/.test(header))
      throw new MailroomError(HttpErrorCodes.HTTP_CONFIG, `mailroomFastify: correlationHeader ${JSON.stringify(header)} is not a header name`);
    if (!operationsPath.startsWith('/')) throw new MailroomError(HttpErrorCodes.HTTP_CONFIG, "mailroomFastify: operationsPath must start with '/'");
    const problemOptions = { ...(options.problemTypeBase !== undefined && { typeBase: options.problemTypeBase }), statusByCode: options.statusByCode ?? {} };
    if (!app.hasConstraintStrategy(API_VERSION_CONSTRAINT)) app.addConstraintStrategy(apiVersionStrategy);

    app.decorateRequest('correlationId', '');
    app.decorateRequest('traceparent', undefined);
    const contexts = new WeakMap<FastifyRequest, { correlation: CorrelationContext; trace: Context; span: Span | undefined; started: number }>();

    app.addHook('onRequest', (request, reply, done) => {
      const incoming = request.headers[header];
      request.correlationId = isValidCorrelationId(incoming) ? incoming : uuidv7();
      const traceparent = request.headers.traceparent;
      request.traceparent = isTraceparent(traceparent) ? traceparent : undefined;
      reply.header(header, request.correlationId);
      const correlation = { correlationId: request.correlationId, traceparent: request.traceparent };
      // A server span joins the caller's trace (W3C headers through the global propagator), unless an HTTP instrumentation made one already.
      const server = startServerSpan(request.method, request.routeOptions.url, pathOf(request.url), request.headers, request.traceparent);
      contexts.set(request, { correlation, trace: server.context, span: server.span, started: performance.now() });
      context.with(server.context, () => withCorrelation(correlation, done));
    });
    // Body parsing runs in stream callbacks outside the hook's async context: enter it again.
    app.addHook('preHandler', (request, _reply, done) => {
      const entered = contexts.get(request);
      if (entered) context.with(entered.trace, () => withCorrelation(entered.correlation, done));
      else done();
    });
    const endServerSpan = (request: FastifyRequest, status: number | undefined) => {
      const entered = contexts.get(request);
      if (!entered?.span) return;
      const { span } = entered;
      entered.span = undefined;
      const route = request.routeOptions.url;
      const attributes: Record<string, string | number> = { [HttpAttributes.method]: request.method };
      if (route !== undefined) attributes[HttpAttributes.route] = route;
      if (status === undefined) {
        attributes[HttpAttributes.errorType] = 'aborted';
        span.setStatus({ code: SpanStatusCode.ERROR, message: 'the client aborted the request' });
      } else {
        attributes[HttpAttributes.status] = status;
        span.setAttribute(HttpAttributes.status, status);
        if (status >= 500) {
          attributes[HttpAttributes.errorType] = String(status);
          span.setStatus({ code: SpanStatusCode.ERROR });
          span.setAttribute(HttpAttributes.errorType, String(status));
        }
      }
      span.end();
      httpInstruments().serverDuration.record((performance.now() - entered.started) / 1000, attributes);
    };
    app.addHook('onResponse', (request, reply, done) => {
      endServerSpan(request, reply.statusCode);
      done();
    });
    app.addHook('onRequestAbort', (request, done) => {
      endServerSpan(request, undefined);
      done();
    });

    function sendProblem(this: FastifyReply, problem: ProblemDetails): FastifyReply {
      const body: ProblemDetails = { ...problem, instance: pathOf(this.request.url), correlationId: this.request.correlationId };
      return this.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
    }
    app.decorateReply('problem', sendProblem);
    app.decorateReply('accepted', function (this: FastifyReply, operationId: string, extra: Record<string, unknown> = {}) {
      const href = `${operationsPath}/${encodeURIComponent(operationId)}`;
      const body: AcceptedBody = { ...extra, operationId, status: 'pending', href, events: `${href}/events` };
      return this.code(202).header('location', href).send(body);
    });

    app.setErrorHandler((error: FastifyError, request, reply) => {
      const problem = problemFromError(error, problemOptions);
      if (problem.status >= 500) request.log.error({ err: error, correlationId: request.correlationId }, 'request failed');
      else request.log.info({ code: problem.code, correlationId: request.correlationId }, 'request refused');
      return sendProblem.call(reply, problem);
    });
    app.setNotFoundHandler((request, reply) => {
      const code = HttpErrorCodes.HTTP_NOT_FOUND;
      return sendProblem.call(reply, {
        type: problemOptions.typeBase ? `${problemOptions.typeBase}${code}` : 'about:blank',
        title: 'Not Found',
        status: 404,
        detail: `No route serves ${request.method} ${pathOf(request.url)}`,
        code,
      });
    });
  },
  { name: '@mailroom/http', fastify: '5.x' },
);
