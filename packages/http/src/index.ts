/**
 * `@mailroom/http`: HTTP the acceptable way. A resilient client (timeout, retry, circuit breaker,
 * bulkhead on cockatiel and undici), call-or-queue, a Fastify plugin (correlation ids,
 * problem+json, versioned routes, `202 Accepted`), and operations followed live over SSE.
 * The browser client lives at `@mailroom/http/browser`, operator authentication at
 * `@mailroom/http/operator-auth`.
 */
export { watchOperationScriptPath } from './browser-script.js';
export { type CallOrQueueOptions, type CallOrQueueResult, callOrQueue, type QueueOptions } from './call-or-queue.js';
export type { BreakerOptions, BulkheadOptions, HttpClientOptions, RetryOptions } from './client-options.js';
export {
  CORRELATION_HEADER,
  type CorrelationContext,
  correlationMiddleware,
  currentCorrelation,
  isValidCorrelationId,
  withCorrelation,
} from './correlation-context.js';
export { type HttpErrorCode, HttpErrorCodes } from './errors.js';
export { type HealthReporter, type HealthRoutesOptions, healthRoutes, type ReadinessBody, type ReadinessCheck } from './health-routes.js';
export {
  type BreakerState,
  type BreakerStateChange,
  createHttpClient,
  type Disposable,
  type HttpClient,
  type HttpMethod,
  type HttpRequestOptions,
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENT_METHODS,
  type RetryEvent,
} from './http-client.js';
export {
  countsAgainstBreaker,
  HttpError,
  type HttpErrorInit,
  type HttpResponse,
  isHttpError,
  isTransientHttpError,
  isTransientStatus,
} from './http-error.js';
export {
  currentTraceId,
  HTTP_INSTRUMENTATION_NAME,
  HTTP_INSTRUMENTATION_VERSION,
  HttpAttributes,
  HttpMetrics,
} from './http-telemetry.js';
export { type AcceptedBody, type MailroomFastifyOptions, mailroomFastify } from './mailroom-fastify.js';
export { classifierFor, defineOperation, type OperationDefinition, type OperationOptions, type StepOptions } from './operations/define-operation.js';
export { type OperationEventData, type OperationRoutesOptions, operationRoutes } from './operations/operation-routes.js';
export { createOperationTracker, type OperationTracker, type OperationTrackerOptions } from './operations/operation-tracker.js';
export { isTerminalKind, isTerminalStatus, type OperationStepView, type OperationView, operationView } from './operations/operation-view.js';
export { formatSseEvent, type SseEvent } from './operations/sse-writer.js';
export { type StartedOperation, type StartOperationOptions, startOperation } from './operations/start-operation.js';
export { DEFAULT_PROBLEM_STATUS, PROBLEM_CONTENT_TYPE, type ProblemDetails, type ProblemFieldError, type ProblemOptions, problemFromError } from './problem.js';
export { childTraceparent, isTraceparent } from './traceparent.js';
export {
  ACCEPT_VERSION_HEADER,
  API_VERSION_CONSTRAINT,
  API_VERSION_HEADER,
  apiVersionStrategy,
  type Deprecation,
  deprecationHeaders,
  type RouteVersion,
  requestedVersion,
  type VersionedRouteOptions,
  versionedRoute,
} from './versioned-route.js';
