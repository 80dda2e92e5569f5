import type { OperationStore } from '@mailroom/core';
import { type AnyContract, type Endpoint, type Envelope, errorMessage, isMailroomError, MailroomError, type PayloadOf, validateOutgoing } from '@mailroom/core';
import { v7 as uuidv7 } from 'uuid';
import { currentCorrelation, isValidCorrelationId } from '../correlation-context.js';
import { HttpErrorCodes } from '../errors.js';
import { classifierFor, type OperationDefinition } from './define-operation.js';

/** Options of {@link startOperation}. */
export interface StartOperationOptions {
  /** Where the operation is recorded (the store the tracker and the routes use). */
  store: OperationStore;
  /** The endpoint that sends (or publishes) the starting message: through its outbox when it has persistence. */
  endpoint: Endpoint<any>;
  /** The operation id (the correlation id of every message of the process). Default a new UUIDv7. */
  operationId?: string;
  /** The id of the starting message (an idempotency key fits). Default a new UUIDv7. */
  messageId?: string;
  /** For a starting command: send to this endpoint instead of the contract's owner. */
  to?: string;
}

/** What {@link startOperation} did. */
export interface StartedOperation {
  readonly operationId: string;
  /**
   * False when an operation with this id already existed. Its starting message is then sent again,
   * with the id it was recorded with, only while the operation holds nothing but its `started`
   * entry (the first start may have died before sending); otherwise nothing is sent.
   */
  readonly created: boolean;
  /** The starting message, when it was sent (or sent again). */
  readonly envelope: Envelope | undefined;
}

const START_FAILED_TYPE = 'mailroom.operation.start-failed';

/**
 * Starts an operation: validates the payload against the starting contract (throws
 * `MAILROOM_ERR_CONTRACT_VALIDATION`, nothing recorded), records the operation as pending, then
 * sends the starting command (or publishes the starting event) with the operation id as
 * correlation id. The record is committed before the message leaves, so no event of the process can
 * precede it. Idempotent on `operationId`: for an id already recorded, the starting message is sent
 * again with the message id it was recorded with while the operation holds only its `started`
 * entry (so a start that died between the record and the send is completed by a retry, and
 * consumers' inboxes drop the duplicate if the first send did happen); otherwise nothing is sent.
 * When sending fails, the operation is marked failed and `MAILROOM_ERR_OPERATION_START_FAILED` is thrown.
 */
export async function startOperation<S extends AnyContract>(
  definition: OperationDefinition<S>,
  data: PayloadOf<S>,
  options: StartOperationOptions,
): Promise<StartedOperation> {
  const { store, endpoint } = options ?? {};
  if (!store || !endpoint)
    throw new MailroomError(HttpErrorCodes.OPERATION_CONFIG, 'startOperation needs store (an OperationStore) and endpoint (an Endpoint)');
  const operationId = options.operationId ?? uuidv7();
  if (!isValidCorrelationId(operationId)) {
    throw new MailroomError(
      HttpErrorCodes.OPERATION_CONFIG,
      'startOperation: operationId must be 1-128 letters, digits or . _ : @ -, starting with a letter or digit',
    );
  }
  const contract = definition.startedBy;
  await validateOutgoing(contract, data);
  if (options.messageId !== undefined && (typeof options.messageId !== 'string' || options.messageId.length === 0 || options.messageId.length > 200)) {
    throw new MailroomError(HttpErrorCodes.OPERATION_CONFIG, 'startOperation: messageId must be a non-empty string of at most 200 characters');
  }
  let messageId = options.messageId ?? uuidv7();
  const startedAt = new Date();
  const classify = classifierFor([definition]);
  const created = await store.create(
    {
      id: operationId,
      name: definition.name,
      steps: definition.steps,
      startedAt,
      deadline: new Date(startedAt.getTime() + definition.timeoutMs),
      started: { type: contract.type, messageId },
    },
    classify,
  );
  if (!created) {
    const unsent = await startedOnly(store, operationId, definition.name, contract.type);
    if (unsent === undefined) return { operationId, created: false, envelope: undefined };
    messageId = unsent;
  }
  const traceparent = currentCorrelation()?.traceparent;
  const sendOptions = {
    correlationId: operationId,
    id: messageId,
    ...(traceparent !== undefined && { traceparent }),
    ...(options.to !== undefined && { to: options.to }),
  };
  try {
    const envelope = endpoint.hasPersistence
      ? await endpoint.transaction((scope) =>
          contract.kind === 'command'
            ? scope.send(contract as never, data as never, sendOptions)
            : scope.publish(contract as never, data as never, sendOptions),
        )
      : contract.kind === 'command'
        ? await endpoint.send(contract as never, data as never, sendOptions)
        : await endpoint.publish(contract as never, data as never, sendOptions);
    return { operationId, created, envelope };
  } catch (error) {
    const reason = { code: isMailroomError(error) ? error.code : HttpErrorCodes.OPERATION_START_FAILED, message: errorMessage(error) };
    await store
      .append(operationId, { type: START_FAILED_TYPE, messageId: 'mailroom:start-failed', at: new Date() }, () => ({ kind: 'failed', data: reason }))
      .catch(() => undefined);
    throw new MailroomError(
      HttpErrorCodes.OPERATION_START_FAILED,
      `Operation ${definition.name} ${operationId} was recorded but ${contract.type} could not be sent: ${reason.message}`,
      {
        cause: error,
        details: { operationId, type: contract.type },
      },
    );
  }
}

/**
 * The starting message id of an operation recorded as `name`, started by `type`, that holds
 * nothing but its `started` entry (its start may never have been sent); undefined otherwise.
 */
async function startedOnly(store: OperationStore, operationId: string, name: string, type: string): Promise<string | undefined> {
  const stored = await store.read(operationId);
  const entries = stored?.entries ?? [];
  const first = entries[0];
  if (stored?.operation.name !== name || entries.length !== 1 || first?.kind !== 'started' || first.type !== type) return undefined;
  return first.messageId;
}
