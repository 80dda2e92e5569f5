import { type Logger, MailroomError, redactUrl } from '@mailroom/core';
import { checkNumberOption } from '@mailroom/core/internal';
import type { Dispatcher } from 'undici';
import { HttpErrorCodes } from './errors.js';

/** Retry settings of an {@link HttpClientOptions}: decorrelated-jitter exponential backoff (cockatiel's default generator). */
export interface RetryOptions {
  /** Retries after the first attempt. Default 2 (3 attempts in all). */
  retries?: number;
  /** First backoff delay before jitter. Default 100 ms. */
  initialDelayMs?: number;
  /** Largest backoff delay. Default 2000 ms. */
  maxDelayMs?: number;
}

/**
 * Circuit-breaker settings of an {@link HttpClientOptions}. By default the breaker opens after
 * `consecutiveFailures` failures in a row (cockatiel `ConsecutiveBreaker`); set `failureRate` to
 * open on a failure ratio over a sliding window instead (cockatiel `SamplingBreaker`).
 */
export interface BreakerOptions {
  /** Opens after this many consecutive failures. Default 5. */
  consecutiveFailures?: number;
  /** Opens when more than this fraction (0-1] of calls within `windowMs` failed. */
  failureRate?: number;
  /** The sliding window of `failureRate`. Default 10 s. */
  windowMs?: number;
  /** With `failureRate`: fewer calls per second than this never open the breaker. Default 5. */
  minimumRps?: number;
  /** How long the breaker stays open before one probe call may go through (half-open). Default 10 s. */
  halfOpenAfterMs?: number;
}

/** Bulkhead settings of an {@link HttpClientOptions}: at most `limit` calls at once, `queue` more waiting. */
export interface BulkheadOptions {
  /** Calls in flight at once. Default 64. */
  limit?: number;
  /** Calls waiting for a slot; beyond that calls fail with `MAILROOM_ERR_HTTP_BULKHEAD_FULL`. Default 256. */
  queue?: number;
}

/** The policy settings of a resilient client (HTTP or RPC): per-attempt timeout, retry, circuit breaker, bulkhead. */
export interface PolicyOptions {
  /** Longest time one attempt may take, body included, before it is aborted. Default 5000 ms. */
  timeoutMs?: number;
  /** Retry policy, applied only to calls that are safe to send again (idempotent); `false` disables it. */
  retry?: RetryOptions | false;
  /** Circuit-breaker policy; `false` disables it. */
  breaker?: BreakerOptions | false;
  /** Bulkhead policy; `false` disables it. */
  bulkhead?: BulkheadOptions | false;
}

/** Options of {@link createHttpClient}: one upstream service (target) and its policies. */
export interface HttpClientOptions extends PolicyOptions {
  /** The target's name, used in errors, events and logs (e.g. `payments`). Letters, digits, `.`, `_`, `-`. */
  name: string;
  /** Where the target lives: `http(s)://host[:port][/base/path]`. Credentials in it are never logged. */
  baseUrl: string;
  /** Headers sent with every request (an `authorization` header, say); never logged nor put in errors. */
  headers?: Record<string, string>;
  /** Largest response body read. Default 10 MiB. */
  maxResponseBytes?: number;
  /** The undici dispatcher (Agent, Pool, MockAgent...); default undici's global dispatcher. */
  dispatcher?: Dispatcher;
  /** Logs breaker state changes and retries; default pino at `MAILROOM_LOG_LEVEL`. */
  logger?: Logger;
}

/** Checked policy settings, defaults filled in. */
export interface ResolvedPolicyOptions {
  timeoutMs: number;
  retry: Required<RetryOptions> | false;
  breaker: (Required<Omit<BreakerOptions, 'failureRate'>> & { failureRate: number | undefined }) | false;
  bulkhead: Required<BulkheadOptions> | false;
}

/** The checked settings of a client, defaults filled in. */
export interface ResolvedClientOptions extends ResolvedPolicyOptions {
  name: string;
  baseUrl: URL;
  headers: Record<string, string>;
  maxResponseBytes: number;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

function configError(message: string): MailroomError {
  return new MailroomError(HttpErrorCodes.HTTP_CONFIG, message);
}

function wholeNumber(value: unknown, what: string, min: number, fail: (message: string) => Error): number {
  return checkNumberOption(value, what, { min, integer: true }, fail);
}

/**
 * Checks policy settings and fills in defaults (timeout 5 s, 2 retries from 100 ms up to 2 s,
 * a breaker opening after 5 consecutive failures for 10 s, a bulkhead of 64 + 256 waiting). Throws
 * the error `fail` makes, with a message starting with `prefix` that names the bad option.
 */
export function resolvePolicyOptions(options: PolicyOptions, prefix: string, fail: (message: string) => Error): ResolvedPolicyOptions {
  const integer = (value: unknown, what: string, min: number): number => wholeNumber(value, what, min, fail);
  const object = <T>(value: T | false | undefined, what: string): T | false | undefined => {
    if (value === undefined || value === false) return value;
    if (typeof value !== 'object' || value === null) throw fail(`${what} must be an object or false, got ${String(value)}`);
    return value;
  };
  const retry = object(options.retry, `${prefix} retry`);
  const breaker = object(options.breaker, `${prefix} breaker`);
  const bulkhead = object(options.bulkhead, `${prefix} bulkhead`);
  const failureRate = breaker ? breaker.failureRate : undefined;
  if (failureRate !== undefined && (typeof failureRate !== 'number' || !(failureRate > 0 && failureRate <= 1))) {
    throw fail(`${prefix} breaker.failureRate must be a fraction in (0, 1], got ${String(failureRate)}`);
  }
  return {
    timeoutMs: integer(options.timeoutMs ?? 5000, `${prefix} timeoutMs`, 1),
    retry:
      retry === false
        ? false
        : {
            retries: integer(retry?.retries ?? 2, `${prefix} retry.retries`, 0),
            initialDelayMs: integer(retry?.initialDelayMs ?? 100, `${prefix} retry.initialDelayMs`, 0),
            maxDelayMs: integer(retry?.maxDelayMs ?? 2000, `${prefix} retry.maxDelayMs`, 0),
          },
    breaker:
      breaker === false
        ? false
        : {
            consecutiveFailures: integer(breaker?.consecutiveFailures ?? 5, `${prefix} breaker.consecutiveFailures`, 1),
            failureRate,
            windowMs: integer(breaker?.windowMs ?? 10_000, `${prefix} breaker.windowMs`, 1),
            minimumRps: integer(breaker?.minimumRps ?? 5, `${prefix} breaker.minimumRps`, 0),
            halfOpenAfterMs: integer(breaker?.halfOpenAfterMs ?? 10_000, `${prefix} breaker.halfOpenAfterMs`, 1),
          },
    bulkhead:
      bulkhead === false
        ? false
        : { limit: integer(bulkhead?.limit ?? 64, `${prefix} bulkhead.limit`, 1), queue: integer(bulkhead?.queue ?? 256, `${prefix} bulkhead.queue`, 0) },
  };
}

/**
 * Checks client options and fills in defaults. Throws `MAILROOM_ERR_HTTP_CONFIG` naming the bad
 * option and what to set; the base URL appears only with its password redacted.
 */
export function resolveClientOptions(options: HttpClientOptions): ResolvedClientOptions {
  if (typeof options !== 'object' || options === null) throw configError('createHttpClient needs an options object with at least name and baseUrl');
  const { name } = options;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw configError(`HTTP client name ${JSON.stringify(name)} is invalid: use letters, digits, '.', '_', '-' (at most 100 characters)`);
  }
  let baseUrl: URL;
  try {
    baseUrl = new URL(String(options.baseUrl));
  } catch {
    throw configError(`HTTP client ${name}: baseUrl ${JSON.stringify(redactUrl(String(options.baseUrl)))} is not an absolute URL; use http(s)://host:port`);
  }
  if (baseUrl.protocol !== 'http:' && baseUrl.protocol !== 'https:') {
    throw configError(`HTTP client ${name}: baseUrl must use http: or https:, got ${baseUrl.protocol}`);
  }
  if (baseUrl.search || baseUrl.hash) throw configError(`HTTP client ${name}: baseUrl must not have a query or fragment; pass them per request`);
  const prefix = `HTTP client ${name}:`;
  const policies = resolvePolicyOptions(options, prefix, configError);
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.headers ?? {})) {
    if (typeof value !== 'string') throw configError(`${prefix} header ${JSON.stringify(key)} must be a string`);
    headers[key.toLowerCase()] = value;
  }
  return {
    name,
    baseUrl,
    ...policies,
    headers,
    maxResponseBytes: wholeNumber(options.maxResponseBytes ?? 10 * 1024 * 1024, `${prefix} maxResponseBytes`, 1, configError),
  };
}
