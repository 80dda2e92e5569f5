import { STATUS_CODES } from 'node:http';
import { ErrorCodes, isMailroomError } from '@mailroom/core';
import { HttpErrorCodes } from './errors.js';

/** The media type of problem details (RFC 9457). */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** One invalid field of a request, in a validation problem's `errors` member. */
export interface ProblemFieldError {
  /** Where: `body`, `querystring`, `params`, `headers`, or `message` for a contract payload. */
  readonly in: string;
  /** JSON Pointer (`/items/0/sku`) or dotted path of the field; empty for the whole value. */
  readonly path: string;
  readonly message: string;
}

/**
 * Problem details (RFC 9457) with Mailroom's extension members: `code` (a `MAILROOM_ERR_*` or
 * Fastify `FST_ERR_*` code), `correlationId`, and `errors` for validation problems.
 */
export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly instance?: string;
  readonly code: string;
  readonly correlationId?: string;
  readonly errors?: readonly ProblemFieldError[];
  readonly [extension: string]: unknown;
}

/** The status each Mailroom code answers with when it reaches a route's error handler. */
export const DEFAULT_PROBLEM_STATUS: Readonly<Record<string, number>> = Object.freeze({
  [ErrorCodes.CONTRACT_VALIDATION]: 400,
  [ErrorCodes.TRANSPORT_UNAVAILABLE]: 503,
  [ErrorCodes.TRANSPORT_CLOSED]: 503,
  [ErrorCodes.TRANSPORT_CONFIRM_TIMEOUT]: 503,
  [HttpErrorCodes.HTTP_VALIDATION]: 400,
  [HttpErrorCodes.HTTP_NOT_FOUND]: 404,
  [HttpErrorCodes.HTTP_UNSUPPORTED_VERSION]: 406,
  [HttpErrorCodes.HTTP_STATUS]: 502,
  [HttpErrorCodes.HTTP_NETWORK]: 502,
  [HttpErrorCodes.HTTP_RESPONSE_TOO_LARGE]: 502,
  [HttpErrorCodes.HTTP_TIMEOUT]: 504,
  [HttpErrorCodes.HTTP_CIRCUIT_OPEN]: 503,
  [HttpErrorCodes.HTTP_BULKHEAD_FULL]: 503,
  [HttpErrorCodes.OPERATION_NOT_FOUND]: 404,
  [HttpErrorCodes.OPERATION_BAD_EVENT_ID]: 400,
  [HttpErrorCodes.OPERATION_START_FAILED]: 503,
  [HttpErrorCodes.OPERATION_TOO_MANY_STREAMS]: 429,
  [HttpErrorCodes.AUTH_REQUIRED]: 401,
  [HttpErrorCodes.AUTH_CROSS_ORIGIN]: 403,
  [HttpErrorCodes.AUTH_JSON_REQUIRED]: 415,
});

/** Options of {@link problemFromError}. */
export interface ProblemOptions {
  /** Status overrides by error code, over {@link DEFAULT_PROBLEM_STATUS}. */
  statusByCode?: Readonly<Record<string, number>>;
  /** `type` is this base + the code; default `about:blank` for every problem. */
  typeBase?: string;
}

interface FastifyValidationError {
  validation: { instancePath?: string; message?: string; params?: Record<string, unknown> }[];
  validationContext?: string;
}

function isValidationError(error: unknown): error is Error & FastifyValidationError {
  return typeof error === 'object' && error !== null && Array.isArray((error as FastifyValidationError).validation);
}

function titleOf(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}

function fieldErrors(error: FastifyValidationError): ProblemFieldError[] {
  return error.validation.map((issue) => {
    const missing = issue.params?.missingProperty;
    const path = `${issue.instancePath ?? ''}${typeof missing === 'string' ? `/${missing}` : ''}`;
    return { in: error.validationContext ?? 'body', path, message: issue.message ?? 'is invalid' };
  });
}

/**
 * Turns anything a route threw into problem details, without exposing internals: request
 * validation errors become 400 with `errors`; Mailroom errors get the status of their code
 * (unknown codes: 500); other errors with a 4xx `statusCode` keep it and their message; everything
 * else is a 500 `MAILROOM_ERR_HTTP_INTERNAL` whose detail says nothing about the cause.
 */
export function problemFromError(error: unknown, options: ProblemOptions = {}): ProblemDetails {
  const type = (code: string) => (options.typeBase ? `${options.typeBase}${code}` : 'about:blank');
  if (isValidationError(error)) {
    const code = HttpErrorCodes.HTTP_VALIDATION;
    return { type: type(code), title: titleOf(400), status: 400, detail: 'The request is invalid; see errors.', code, errors: fieldErrors(error) };
  }
  if (isMailroomError(error)) {
    const status = options.statusByCode?.[error.code] ?? DEFAULT_PROBLEM_STATUS[error.code] ?? 500;
    const issues = error.code === ErrorCodes.CONTRACT_VALIDATION ? (error.details?.issues as { path: string; message: string }[] | undefined) : undefined;
    const internal = status >= 500 && DEFAULT_PROBLEM_STATUS[error.code] === undefined && options.statusByCode?.[error.code] === undefined;
    return {
      type: type(internal ? HttpErrorCodes.HTTP_INTERNAL : error.code),
      title: titleOf(status),
      status,
      detail: internal ? 'An unexpected error occurred; the correlation id identifies it in the logs.' : error.message,
      code: internal ? HttpErrorCodes.HTTP_INTERNAL : error.code,
      ...(issues && { errors: issues.map((issue) => ({ in: 'message', path: issue.path, message: issue.message })) }),
    };
  }
  const statusCode = (error as { statusCode?: unknown })?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    const code = typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : `HTTP_${statusCode}`;
    return { type: type(code), title: titleOf(statusCode), status: statusCode, detail: (error as Error).message, code };
  }
  const code = HttpErrorCodes.HTTP_INTERNAL;
  return { type: type(code), title: titleOf(500), status: 500, detail: 'An unexpected error occurred; the correlation id identifies it in the logs.', code };
}
