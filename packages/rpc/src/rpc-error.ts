import { Code, ConnectError } from '@connectrpc/connect';
import { isMailroomError, MailroomError } from '@mailroom/core';
import { type RpcErrorCode, RpcErrorCodes } from './errors.js';

/** What an {@link RpcError} says about the failed call, beyond its code. */
export interface RpcErrorInit {
  /** The transport's name for the target service (its `name` option). */
  target: string;
  /** The fully qualified service name, e.g. `mailroom.shop.catalog.v2.CatalogService`. */
  service: string;
  /** The method's name, e.g. `GetQuote`. */
  method: string;
  /** True when sending the call again is safe: a `NO_SIDE_EFFECTS` or `IDEMPOTENT` method, or a call carrying an idempotency key. */
  idempotent: boolean;
  /** The Connect / gRPC status code of the failure, when there is one (always for `RPC_STATUS`). */
  rpcCode?: Code;
  /** True when the call was refused because the circuit breaker was open. */
  breakerOpen?: boolean;
  /** True when retrying later can succeed (network, timeout, breaker open, bulkhead full, and the codes {@link isTransientCode} accepts). */
  transient: boolean;
  /** Attempts made, 0 when the call was refused before any (breaker open, bulkhead full). */
  attempts: number;
  cause?: unknown;
}

const brand = Symbol.for('mailroom.rpc-error');

/**
 * The error of a failed RPC call made through a Mailroom RPC transport: a `MailroomError` with an
 * `MAILROOM_ERR_RPC_*` code, the target, service and method, the Connect / gRPC code (`rpcCode`),
 * whether the breaker was open and whether the failure is transient. Its `cause` is the
 * `ConnectError` the transport gave (with the server's metadata and details). Detect it with
 * {@link isRpcError}, which holds across duplicate package copies. Its message and details never
 * contain request headers or messages.
 */
export class RpcError extends MailroomError {
  override readonly name = 'RpcError';
  readonly target: string;
  readonly service: string;
  readonly method: string;
  /** True when sending the call again is safe (see {@link RpcErrorInit.idempotent}). */
  readonly idempotent: boolean;
  readonly rpcCode: Code | undefined;
  readonly breakerOpen: boolean;
  readonly transient: boolean;
  readonly attempts: number;

  constructor(code: RpcErrorCode, message: string, init: RpcErrorInit) {
    super(code, message, {
      cause: init.cause,
      details: {
        target: init.target,
        service: init.service,
        method: init.method,
        ...(init.rpcCode !== undefined && { rpcCode: Code[init.rpcCode] }),
        breakerOpen: init.breakerOpen ?? false,
        transient: init.transient,
        attempts: init.attempts,
      },
    });
    this.target = init.target;
    this.service = init.service;
    this.method = init.method;
    this.idempotent = init.idempotent;
    this.rpcCode = init.rpcCode;
    this.breakerOpen = init.breakerOpen ?? false;
    this.transient = init.transient;
    this.attempts = init.attempts;
    Object.defineProperty(this, brand, { value: true });
  }
}

/** True when `error` is an {@link RpcError} (optionally with the given code), even from another copy of this package. */
export function isRpcError(error: unknown, code?: RpcErrorCode): error is RpcError {
  return isMailroomError(error) && brand in error && (code === undefined || error.code === code);
}

/**
 * Codes worth retrying, the RPC counterparts of the HTTP statuses `@mailroom/http` retries:
 * `Unavailable` (503), `DeadlineExceeded` (504), `ResourceExhausted` (429), `Internal`, `Unknown`
 * and `DataLoss` (500). The others are answers: retrying the same call cannot change them.
 */
export function isTransientCode(code: Code): boolean {
  return (
    code === Code.Unavailable ||
    code === Code.DeadlineExceeded ||
    code === Code.ResourceExhausted ||
    code === Code.Internal ||
    code === Code.Unknown ||
    code === Code.DataLoss
  );
}

/** Codes by which a server says it did not act on the call (the counterparts of 503 and 429): repeating it is safe. */
const NOT_ACTED_ON: ReadonlySet<Code> = new Set([Code.Unavailable, Code.ResourceExhausted]);

/**
 * True when a failure says the target is unhealthy, so the circuit breaker counts it: network
 * errors, timeouts, and the 5xx-like codes (`Unavailable`, `Internal`, `Unknown`, `DataLoss`,
 * `DeadlineExceeded`). `ResourceExhausted` (429) and the other answers mean the target is up.
 */
export function countsAgainstBreaker(error: unknown): boolean {
  if (!isRpcError(error)) return false;
  if (error.code === RpcErrorCodes.RPC_NETWORK || error.code === RpcErrorCodes.RPC_TIMEOUT) return true;
  return error.code === RpcErrorCodes.RPC_STATUS && error.rpcCode !== undefined && error.rpcCode !== Code.ResourceExhausted && isTransientCode(error.rpcCode);
}

/** True when `error` is an {@link RpcError} that retrying later can fix. */
export function isTransientRpcError(error: unknown): error is RpcError {
  return isRpcError(error) && error.transient;
}

/** Node's error codes for a connection that could not be made or broke (walked through the `cause` chain). */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

/** The first Node network error code in `error`'s cause chain (`ECONNREFUSED`, `ERR_HTTP2_...`), if any. */
export function networkCauseOf(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || code.startsWith('ERR_HTTP2_'))) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * True when a failed call may have been carried out by the server: an attempt was made, and
 * neither was the connection refused nor did the server answer a code saying it did not act on it.
 */
export function mayHaveActed(error: RpcError): boolean {
  if (error.attempts === 0) return false;
  if (error.code === RpcErrorCodes.RPC_STATUS) return !(error.rpcCode !== undefined && NOT_ACTED_ON.has(error.rpcCode));
  return !(error.code === RpcErrorCodes.RPC_NETWORK && networkCauseOf(error.cause) === 'ECONNREFUSED');
}

/** What {@link toRpcError} needs to know about the call that failed. */
export type RpcCallInfo = Omit<RpcErrorInit, 'transient' | 'rpcCode' | 'breakerOpen' | 'cause'>;

/**
 * Turns what one attempt threw into an {@link RpcError}: a network cause in the chain gives
 * `RPC_NETWORK`, and so does `Canceled` (call it only when the caller did not cancel: then the
 * HTTP/2 stream was reset under the call, as when the server's connection drops); `DeadlineExceeded`
 * gives `RPC_TIMEOUT`; any other `ConnectError` gives `RPC_STATUS` with its code. `RpcError`s pass through.
 */
export function toRpcError(error: unknown, info: RpcCallInfo): RpcError {
  if (isRpcError(error)) return error;
  const connectError = ConnectError.from(error);
  const what = `${info.target} ${info.service}/${info.method}`;
  const network = networkCauseOf(error) ?? (connectError.code === Code.Canceled ? 'stream cancelled' : undefined);
  if (network !== undefined) {
    return new RpcError(RpcErrorCodes.RPC_NETWORK, `${what} failed: ${network} (${connectError.rawMessage})`, {
      ...info,
      rpcCode: connectError.code,
      transient: true,
      cause: connectError,
    });
  }
  if (connectError.code === Code.DeadlineExceeded) {
    return new RpcError(RpcErrorCodes.RPC_TIMEOUT, `${what} passed its deadline: ${connectError.rawMessage}`, {
      ...info,
      rpcCode: connectError.code,
      transient: true,
      cause: connectError,
    });
  }
  return new RpcError(RpcErrorCodes.RPC_STATUS, `${what} answered ${Code[connectError.code]}: ${connectError.rawMessage}`, {
    ...info,
    rpcCode: connectError.code,
    transient: isTransientCode(connectError.code),
    cause: connectError,
  });
}
