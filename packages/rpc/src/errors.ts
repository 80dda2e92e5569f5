/**
 * The error codes of `@mailroom/rpc`. Every error this package throws is a `MailroomError` with one
 * of these codes; `docs/errors.md` lists them all.
 */
export const RpcErrorCodes = {
  /** An RPC transport, server, call-or-queue or protos option is invalid; the message names the option and what to set. */
  RPC_CONFIG: 'MAILROOM_ERR_RPC_CONFIG',
  /** The server answered the call with an error code; `rpcCode` says which (a Connect / gRPC `Code`), `transient` whether retrying can help. */
  RPC_STATUS: 'MAILROOM_ERR_RPC_STATUS',
  /** The server could not be reached or the connection broke during the call (refused, reset, HTTP/2 session error). Transient. */
  RPC_NETWORK: 'MAILROOM_ERR_RPC_NETWORK',
  /** One attempt took longer than the transport's `timeoutMs` (or the call's deadline passed) and was cancelled. Transient. */
  RPC_TIMEOUT: 'MAILROOM_ERR_RPC_TIMEOUT',
  /** The circuit breaker of the target is open: the call was not made (fails fast). Transient. */
  RPC_CIRCUIT_OPEN: 'MAILROOM_ERR_RPC_CIRCUIT_OPEN',
  /** The target's bulkhead is full (too many concurrent calls and a full wait queue): the call was not made. Transient. */
  RPC_BULKHEAD_FULL: 'MAILROOM_ERR_RPC_BULKHEAD_FULL',
  /** The caller's `AbortSignal` cancelled the call. Not retried, not counted by the breaker. */
  RPC_ABORTED: 'MAILROOM_ERR_RPC_ABORTED',
  /** An RPC handler threw something other than a `ConnectError`; the caller gets `Code.Internal` without internal details, the server logs it. */
  RPC_INTERNAL: 'MAILROOM_ERR_RPC_INTERNAL',
  /** A protos check failed (lint, a breaking change against the lock, stale generated code) or `buf` could not be run. */
  RPC_PROTOS: 'MAILROOM_ERR_RPC_PROTOS',
} as const;

/** One of the codes of {@link RpcErrorCodes}. */
export type RpcErrorCode = (typeof RpcErrorCodes)[keyof typeof RpcErrorCodes];
