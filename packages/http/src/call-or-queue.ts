import type { OperationStore } from '@mailroom/core';
import { type CommandContract, type Endpoint, type Envelope, MailroomError, type PayloadOf } from '@mailroom/core';
import { v7 as uuidv7 } from 'uuid';
import { currentCorrelation, isValidCorrelationId } from './correlation-context.js';
import { HttpErrorCodes } from './errors.js';
import { type HttpError, isHttpError } from './http-error.js';
import type { OperationDefinition } from './operations/define-operation.js';
import { startOperation } from './operations/start-operation.js';

/**
 * Where {@link callOrQueue} sends its command when the call cannot be made now. `E` is the error a
 * failed call gives (`HttpError` here; `@mailroom/rpc` uses its `RpcError`).
 */
export interface QueueOptions<C extends CommandContract, E = HttpError> {
  /** The endpoint that sends the command: through its outbox when it has persistence, else straight to the transport. */
  endpoint: Endpoint<any>;
  command: C;
  /** The command's payload, or a function making it from the error that made the call fail. */
  data: PayloadOf<C> | ((reason: E) => PayloadOf<C> | Promise<PayloadOf<C>>);
  /**
   * The correlation id of the queued command, returned as `operationId`. Default: the current
   * correlation (the HTTP request's or the handled message's), else a new UUIDv7.
   */
  operationId?: string;
  /** The command's message id, to make re-queuing idempotent (an idempotency key fits). Default a new UUIDv7. */
  messageId?: string;
  /** Send to this endpoint instead of the contract's owner. */
  to?: string;
  /**
   * Queue even a call that may have reached the upstream though it is neither idempotent nor
   * keyed (a POST or PATCH without `idempotencyKey` that timed out, lost its connection or got a
   * 5xx other than 503): set it when the command's handler makes repeating the work safe. Default
   * false: such a call's error is thrown, since the upstream may have done the work.
   */
  safeToRepeat?: boolean;
  /**
   * Follows the queued command as an operation: `definition` (started by `command`) is recorded as
   * pending in `store` before the command leaves, as {@link startOperation} does, so every event of
   * the process finds it and `operationId` can be followed over SSE. Nothing is recorded when the
   * call succeeds. Queuing again under an operation id already recorded sends the command only
   * while that operation holds nothing but its `started` entry.
   */
  operation?: { definition: OperationDefinition<C>; store: OperationStore };
}

/** Options of {@link callOrQueue}. */
export interface CallOrQueueOptions<T, C extends CommandContract, E = HttpError> {
  /** The synchronous call, usually through an {@link HttpClient} (whose breaker and retries apply). */
  call: () => Promise<T>;
  queue: QueueOptions<C, E>;
}

/** What {@link callOrQueue} did: called, queued the command, or got a non-transient refusal (4xx). */
export type CallOrQueueResult<T, E = HttpError> =
  | { readonly status: 'completed'; readonly value: T }
  | {
      readonly status: 'queued';
      /** The correlation id of the queued command: follow it as an operation. */
      readonly operationId: string;
      /**
       * The queued command; undefined only with `queue.operation` when that operation was already
       * recorded and had moved past its start, so nothing was sent again.
       */
      readonly envelope: Envelope | undefined;
      /** Why the call was not made or failed. */
      readonly reason: E;
    }
  | { readonly status: 'rejected'; readonly error: E };

/**
 * What to do with the error a call threw: `queue` the command (the failure is transient and the
 * call is safe to repeat later), return it as `rejected` (the target refused it for good), or
 * `rethrow` it. Made by the `judge` of {@link callOrQueueWith}.
 */
export type FailureVerdict<E> = { readonly action: 'queue' | 'reject'; readonly error: E } | { readonly action: 'rethrow' };

/** Statuses by which an upstream says it did not act on the request (RFC 9110): repeating it is safe. */
const NOT_ACTED_ON: ReadonlySet<number> = new Set([408, 429, 503]);

/**
 * True when a failed call may have been carried out by the upstream: it was sent, and neither was
 * the connection refused nor did the upstream answer a status saying it did not act on it.
 */
function mayHaveActed(error: HttpError): boolean {
  if (error.attempts === 0) return false;
  if (error.code === HttpErrorCodes.HTTP_STATUS) return !(error.status !== undefined && NOT_ACTED_ON.has(error.status));
  return !(error.code === HttpErrorCodes.HTTP_NETWORK && (error.cause as { code?: unknown } | undefined)?.code === 'ECONNREFUSED');
}

/** How {@link callOrQueue} reads an `HttpError`: see its rules. */
function judgeHttpError(error: unknown, safeToRepeat: boolean): FailureVerdict<HttpError> {
  if (!isHttpError(error)) return { action: 'rethrow' };
  if (error.code === HttpErrorCodes.HTTP_STATUS && !error.transient) return { action: 'reject', error };
  if (!error.transient) return { action: 'rethrow' };
  if (!error.idempotent && !safeToRepeat && mayHaveActed(error)) return { action: 'rethrow' };
  return { action: 'queue', error };
}

/**
 * Tries a synchronous call; when the target's breaker is open, its bulkhead is full, or the call
 * failed after its retries with a transient error (network, timeout, 408, 429, 5xx), sends a
 * command instead and returns `{ status: 'queued', operationId }`. Queuing repeats the call later,
 * so a call that may already have been carried out (sent, then a timeout, a lost connection or a
 * 5xx other than 503) is queued only when it is safe to repeat: an idempotent method, an
 * `idempotencyKey`, or `queue.safeToRepeat`; otherwise its error is thrown. The command goes through
 * `endpoint.transaction()` (the outbox, committed before this resolves) when the endpoint has
 * persistence, else through `endpoint.send()` (resolved once the transport holds it durably);
 * with `queue.operation`, the operation is recorded first. A non-transient status (4xx, 501, 505) is returned as `{ status: 'rejected' }`, never queued.
 * Anything else the call throws (a caller abort, a too-large response, a non-`HttpError`), and a
 * failure to queue, is rethrown.
 */
export function callOrQueue<T, C extends CommandContract>(options: CallOrQueueOptions<T, C>): Promise<CallOrQueueResult<T>> {
  return callOrQueueWith(options, judgeHttpError);
}

/**
 * The engine of every call-or-queue (HTTP's {@link callOrQueue}, `@mailroom/rpc`'s): tries the
 * call, asks `judge` what the error it threw means (given `queue.safeToRepeat`), and on `queue`
 * sends the command as {@link callOrQueue} describes: through the outbox (or the transport), the
 * operation recorded first when `queue.operation` is set. Bad options throw what `configError` makes
 * (default `MAILROOM_ERR_HTTP_CONFIG`).
 */
export async function callOrQueueWith<T, C extends CommandContract, E>(
  options: CallOrQueueOptions<T, C, E>,
  judge: (error: unknown, safeToRepeat: boolean) => FailureVerdict<E>,
  configError: (message: string) => Error = (message) => new MailroomError(HttpErrorCodes.HTTP_CONFIG, message),
): Promise<CallOrQueueResult<T, E>> {
  const { call, queue } = options ?? {};
  if (typeof call !== 'function') throw configError('callOrQueue needs call: a function making the synchronous call');
  if (!queue?.endpoint || typeof queue.endpoint.send !== 'function' || queue.command?.kind !== 'command') {
    throw configError('callOrQueue needs queue.endpoint (an Endpoint) and queue.command (a contract made by defineCommand)');
  }
  const operation = queue.operation;
  if (operation !== undefined && (typeof operation.store?.create !== 'function' || operation.definition?.startedBy?.type !== queue.command.type)) {
    throw configError(
      `callOrQueue: queue.operation needs { definition, store }: an OperationDefinition started by ${queue.command.type} and an OperationStore`,
    );
  }
  const operationId = queue.operationId ?? currentCorrelation()?.correlationId ?? uuidv7();
  if (!isValidCorrelationId(operationId)) {
    throw configError('callOrQueue: queue.operationId must be 1-128 letters, digits or . _ : @ -');
  }
  let value: T;
  try {
    value = await call();
  } catch (thrown) {
    const verdict = judge(thrown, queue.safeToRepeat === true);
    if (verdict.action === 'rethrow') throw thrown;
    const error = verdict.error;
    if (verdict.action === 'reject') return { status: 'rejected', error };
    const data = typeof queue.data === 'function' ? await (queue.data as (reason: E) => unknown)(error) : queue.data;
    if (operation) {
      const { envelope } = await startOperation(operation.definition, data as PayloadOf<C>, {
        store: operation.store,
        endpoint: queue.endpoint,
        operationId,
        ...(queue.messageId !== undefined && { messageId: queue.messageId }),
        ...(queue.to !== undefined && { to: queue.to }),
      });
      return { status: 'queued', operationId, envelope, reason: error };
    }
    const sendOptions = {
      correlationId: operationId,
      id: queue.messageId ?? uuidv7(),
      ...(queue.to !== undefined && { to: queue.to }),
      ...(currentCorrelation()?.traceparent !== undefined && { traceparent: currentCorrelation()?.traceparent }),
    };
    const endpoint = queue.endpoint;
    const envelope = endpoint.hasPersistence
      ? await endpoint.transaction((scope) => scope.send(queue.command, data as PayloadOf<C>, sendOptions))
      : await endpoint.send(queue.command, data as PayloadOf<C>, sendOptions);
    return { status: 'queued', operationId, envelope, reason: error };
  }
  return { status: 'completed', value };
}
