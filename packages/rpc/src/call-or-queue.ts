import type { CommandContract } from '@mailroom/core';
import { MailroomError } from '@mailroom/core';
import { type CallOrQueueOptions, type CallOrQueueResult, callOrQueueWith, type FailureVerdict } from '@mailroom/http/internal';
import { RpcErrorCodes } from './errors.js';
import { isRpcError, mayHaveActed, type RpcError } from './rpc-error.js';

/** Options of the RPC {@link callOrQueue}: the call (through an `RpcTransport`) and where its plan B command goes. */
export type RpcCallOrQueueOptions<T, C extends CommandContract> = CallOrQueueOptions<T, C, RpcError>;

/** What the RPC {@link callOrQueue} did: called, queued the command, or got a non-transient answer. */
export type RpcCallOrQueueResult<T> = CallOrQueueResult<T, RpcError>;

/** How {@link callOrQueue} reads what the call threw: see its rules. */
function judgeRpcError(error: unknown, safeToRepeat: boolean): FailureVerdict<RpcError> {
  if (!isRpcError(error)) return { action: 'rethrow' };
  if (error.code === RpcErrorCodes.RPC_STATUS && !error.transient) return { action: 'reject', error };
  if (!error.transient) return { action: 'rethrow' };
  if (!error.idempotent && !safeToRepeat && mayHaveActed(error)) return { action: 'rethrow' };
  return { action: 'queue', error };
}

/**
 * Tries an RPC call (made through an `RpcTransport`, whose breaker and retries apply); when the
 * target's breaker is open, its bulkhead is full, or the call failed after its retries with a
 * transient error (network, timeout, `Unavailable`, `ResourceExhausted`, `Internal`, `Unknown`,
 * `DataLoss`), sends the typed command `queue.command` instead and returns
 * `{ status: 'queued', operationId, reason }`. Queuing repeats the call later, so a call that may
 * already have been carried out (sent, then a timeout, a broken connection or an `Internal`) is
 * queued only when it is safe to repeat: a `NO_SIDE_EFFECTS` / `IDEMPOTENT` method, an
 * `idempotency-key` header, or `queue.safeToRepeat`; otherwise its error is thrown. A refused
 * connection, `Unavailable` and `ResourceExhausted` say the server did not act, so they are always
 * queued. Any other code (`NotFound`, `InvalidArgument`...) is the server's answer, returned as
 * `{ status: 'rejected', error }` and never queued. The command goes through the endpoint's outbox
 * (committed before this resolves) when it has persistence, else straight to the transport; with
 * `queue.operation` the operation is recorded first, as `@mailroom/http`'s `callOrQueue` does.
 * Anything else the call throws (a caller's cancel, a non-`RpcError`), and a failure to queue, is
 * rethrown. Bad options throw `MAILROOM_ERR_RPC_CONFIG`.
 */
export function callOrQueue<T, C extends CommandContract>(options: RpcCallOrQueueOptions<T, C>): Promise<RpcCallOrQueueResult<T>> {
  return callOrQueueWith(options, judgeRpcError, (message) => new MailroomError(RpcErrorCodes.RPC_CONFIG, message));
}
