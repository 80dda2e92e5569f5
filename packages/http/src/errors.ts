import { ErrorCodes } from '@mailroom/core';

/**
 * The error codes of `@mailroom/http`. Every error this package throws is a `MailroomError` with one
 * of these codes (or a core code where one fits); `docs/errors.md` lists them all.
 */
export const HttpErrorCodes = {
  /** An HTTP client, route or plugin option is invalid; the message names the option and what to set. */
  HTTP_CONFIG: 'MAILROOM_ERR_HTTP_CONFIG',
  /** The upstream answered with an error status (4xx or 5xx); `status` says which, `transient` whether retrying can help. */
  HTTP_STATUS: 'MAILROOM_ERR_HTTP_STATUS',
  /** The upstream could not be reached or dropped the connection (refused, reset, DNS, TLS). Transient. */
  HTTP_NETWORK: 'MAILROOM_ERR_HTTP_NETWORK',
  /** One attempt took longer than the client's `timeoutMs` and was aborted. Transient. */
  HTTP_TIMEOUT: 'MAILROOM_ERR_HTTP_TIMEOUT',
  /** The circuit breaker of the target is open: the call was not made (fails fast). Transient. */
  HTTP_CIRCUIT_OPEN: 'MAILROOM_ERR_HTTP_CIRCUIT_OPEN',
  /** The target's bulkhead is full (too many concurrent calls and a full wait queue): the call was not made. Transient. */
  HTTP_BULKHEAD_FULL: 'MAILROOM_ERR_HTTP_BULKHEAD_FULL',
  /** The caller's `AbortSignal` aborted the call. Not retried, not counted by the breaker. */
  HTTP_ABORTED: 'MAILROOM_ERR_HTTP_ABORTED',
  /** A response body was larger than the client's `maxResponseBytes`. */
  HTTP_RESPONSE_TOO_LARGE: 'MAILROOM_ERR_HTTP_RESPONSE_TOO_LARGE',
  /** A request did not match its route's schema (body, query, params or headers); answered as problem+json 400. */
  HTTP_VALIDATION: 'MAILROOM_ERR_HTTP_VALIDATION',
  /** No route matches the request's method and path; answered as problem+json 404. */
  HTTP_NOT_FOUND: 'MAILROOM_ERR_HTTP_NOT_FOUND',
  /** The `Accept-Version` header names a version the route does not serve; answered as problem+json 406. */
  HTTP_UNSUPPORTED_VERSION: 'MAILROOM_ERR_HTTP_UNSUPPORTED_VERSION',
  /** An unexpected error inside a route; answered as problem+json 500 without internal details. */
  HTTP_INTERNAL: 'MAILROOM_ERR_HTTP_INTERNAL',
  /** An operation definition is malformed (name, contracts, roles or timeout); thrown by `defineOperation`. */
  OPERATION_DEFINITION: 'MAILROOM_ERR_OPERATION_DEFINITION',
  /** No operation has that id (or the id is malformed); answered as problem+json 404. */
  OPERATION_NOT_FOUND: 'MAILROOM_ERR_OPERATION_NOT_FOUND',
  /** Core's `MAILROOM_ERR_OPERATION_CONFIG`: an operation store, tracker or route option is invalid. Defined in core, since the SQL dialect packages' operation stores throw it too. */
  OPERATION_CONFIG: ErrorCodes.OPERATION_CONFIG,
  /** An operation was recorded but its starting message could not be sent; the operation is marked failed. */
  OPERATION_START_FAILED: 'MAILROOM_ERR_OPERATION_START_FAILED',
  /** A `Last-Event-ID` header (or `lastEventId` query) is not a whole number; answered as problem+json 400. */
  OPERATION_BAD_EVENT_ID: 'MAILROOM_ERR_OPERATION_BAD_EVENT_ID',
  /** One client (remote address) already holds as many open operation event streams as `maxStreamsPerClient` allows; answered as problem+json 429 with `Retry-After`. The browser client falls back to polling. */
  OPERATION_TOO_MANY_STREAMS: 'MAILROOM_ERR_OPERATION_TOO_MANY_STREAMS',
  /** The request carries no valid operator credentials (no session cookie, an expired session, a wrong `Authorization: Bearer` token or login token) on a route that is not marked open; answered as problem+json 401. */
  AUTH_REQUIRED: 'MAILROOM_ERR_AUTH_REQUIRED',
  /** A state-changing request (POST, PUT, PATCH, DELETE) came from another origin than the server's own: its `Origin` (or, without one, its `Referer`) does not match, or a browser session sent neither; answered as problem+json 403. */
  AUTH_CROSS_ORIGIN: 'MAILROOM_ERR_AUTH_CROSS_ORIGIN',
  /** A state-changing request did not say `Content-Type: application/json`; answered as problem+json 415 (this refuses HTML forms and `no-cors` fetches from other pages). */
  AUTH_JSON_REQUIRED: 'MAILROOM_ERR_AUTH_JSON_REQUIRED',
} as const;

/** One of the codes of {@link HttpErrorCodes}. */
export type HttpErrorCode = (typeof HttpErrorCodes)[keyof typeof HttpErrorCodes];
