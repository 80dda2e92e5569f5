import { isMailroomError, MailroomError } from '@mailroom/core';
import { type HttpErrorCode, HttpErrorCodes } from './errors.js';

/** Methods that are idempotent by RFC 9110: the client retries them without an idempotency key. */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** A response as the client read it: status, headers and the whole body (bounded by `maxResponseBytes`). */
export interface HttpResponse {
  readonly status: number;
  /** Response headers, names in lower case. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
  /** How many attempts the call took (1 when the first one succeeded). */
  readonly attempts: number;
  /** The body decoded as UTF-8. */
  text(): string;
  /** The body parsed as JSON; throws `SyntaxError` when it is not JSON. */
  json<T = unknown>(): T;
}

/** What an {@link HttpError} says about the failed call, beyond its code. */
export interface HttpErrorInit {
  /** The client's name for the upstream service (its `name` option). */
  target: string;
  method: string;
  /** The request path without its query string (queries may carry secrets). */
  path: string;
  /**
   * True when sending the request again is safe: an idempotent method, or a request carrying an
   * idempotency key. Default: whether `method` is idempotent.
   */
  idempotent?: boolean;
  /** The status the upstream answered with, when it answered. */
  status?: number;
  /** True when the call was refused because the circuit breaker was open. */
  breakerOpen?: boolean;
  /** True when retrying later can succeed (network, timeout, 408, 429, 5xx except 501/505, breaker open, bulkhead full). */
  transient: boolean;
  /** Attempts made, 0 when the call was refused before any (breaker open, bulkhead full). */
  attempts: number;
  /** The error response, for `HTTP_STATUS` errors. */
  response?: HttpResponse;
  cause?: unknown;
}

const brand = Symbol.for('mailroom.http-error');

/**
 * The error of a failed HTTP call: a `MailroomError` with an `MAILROOM_ERR_HTTP_*` code, the target,
 * the status (when the upstream answered), whether the breaker was open and whether the failure is
 * transient. Detect it with {@link isHttpError}, which holds across duplicate package copies.
 * Its message and details never contain headers, query strings or bodies.
 */
export class HttpError extends MailroomError {
  override readonly name = 'HttpError';
  readonly target: string;
  readonly method: string;
  readonly path: string;
  /** True when sending the request again is safe: an idempotent method, or a request carrying an idempotency key. */
  readonly idempotent: boolean;
  readonly status: number | undefined;
  readonly breakerOpen: boolean;
  readonly transient: boolean;
  readonly attempts: number;
  /** The error response (status, headers, body), for `HTTP_STATUS` errors; not part of `details`, so not logged by default. */
  readonly response: HttpResponse | undefined;

  constructor(code: HttpErrorCode, message: string, init: HttpErrorInit) {
    super(code, message, {
      cause: init.cause,
      details: {
        target: init.target,
        method: init.method,
        path: init.path,
        ...(init.status !== undefined && { status: init.status }),
        breakerOpen: init.breakerOpen ?? false,
        transient: init.transient,
        attempts: init.attempts,
      },
    });
    this.target = init.target;
    this.method = init.method;
    this.path = init.path;
    this.idempotent = init.idempotent ?? IDEMPOTENT_METHODS.has(init.method.toUpperCase());
    this.status = init.status;
    this.breakerOpen = init.breakerOpen ?? false;
    this.transient = init.transient;
    this.attempts = init.attempts;
    this.response = init.response;
    Object.defineProperty(this, brand, { value: true });
  }
}

/** True when `error` is an {@link HttpError} (optionally with the given code), even from another copy of this package. */
export function isHttpError(error: unknown, code?: HttpErrorCode): error is HttpError {
  return isMailroomError(error) && brand in error && (code === undefined || error.code === code);
}

/** Statuses worth retrying: the request may succeed later unchanged. 501 and 505 are permanent. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

/**
 * True when a failure says the upstream is unhealthy, so the circuit breaker counts it: network
 * errors, timeouts, and 5xx statuses (a 4xx, including 429, means the upstream is up and answering).
 */
export function countsAgainstBreaker(error: unknown): boolean {
  if (!isHttpError(error)) return false;
  if (error.code === HttpErrorCodes.HTTP_NETWORK || error.code === HttpErrorCodes.HTTP_TIMEOUT) return true;
  return error.code === HttpErrorCodes.HTTP_STATUS && error.status !== undefined && error.status >= 500 && error.status !== 501 && error.status !== 505;
}

/** True when `error` is an {@link HttpError} that retrying later can fix (see {@link HttpErrorInit.transient}). */
export function isTransientHttpError(error: unknown): error is HttpError {
  return isHttpError(error) && error.transient;
}
