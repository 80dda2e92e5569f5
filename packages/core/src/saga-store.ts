import { ErrorCodes, MailroomError } from './errors.js';

/** A compensation step recorded by a saga instance: the name of one of its `compensations` and its data. */
export interface CompensationStep {
  readonly step: string;
  readonly data?: unknown;
}

/** What a saga store keeps of one instance besides its identity: the state and the compensation steps. */
export interface SagaData {
  readonly state: unknown;
  readonly compensations: readonly CompensationStep[];
}

/** One saga instance as a store returns it. */
export interface StoredSaga extends SagaData {
  /** The saga's name (from `defineSaga`). */
  readonly saga: string;
  /** The correlation key (an order id...). One live instance per (saga, key). */
  readonly key: string;
  /** Identifies this run of the saga for the key: a key can start a new instance after the previous one completed. */
  readonly instanceId: string;
  /** Increases by one with every saved change; the optimistic concurrency check compares it. */
  readonly version: number;
  /** When the instance completed; undefined while it runs. */
  readonly completedAt: Date | undefined;
}

/** A change to save: what the instance holds after a handler ran. */
export interface SagaChange extends SagaData {
  readonly instanceId: string;
  /** Marks the instance completed: later messages and timeouts for it are ignored. */
  readonly completed: boolean;
}

/**
 * Where an endpoint keeps the state of its saga instances: a table in the service's own database,
 * written in the handler's transaction `tx` (so a state change, the inbox record and the outgoing
 * messages commit together). Guarantees optimistic concurrency: `insert` and `update` throw
 * `MAILROOM_ERR_SAGA_CONFLICT` (and change nothing) when another transaction created the instance
 * or changed its version first.
 */
export interface SagaStore<Tx> {
  /** The instance of `saga` for `key` (running or completed), or undefined. */
  load(tx: Tx, saga: string, key: string): Promise<StoredSaga | undefined>;
  /** Creates the instance at version 1; throws `MAILROOM_ERR_SAGA_CONFLICT` when one exists for (saga, key). */
  insert(tx: Tx, saga: string, key: string, change: SagaChange): Promise<void>;
  /**
   * Replaces the instance's data (and instance id, when a completed instance is started anew) and
   * moves its version to `expectedVersion + 1`; throws `MAILROOM_ERR_SAGA_CONFLICT` when its
   * version is no longer `expectedVersion`.
   */
  update(tx: Tx, saga: string, key: string, expectedVersion: number, change: SagaChange): Promise<void>;
}

/** The error a store throws when another transaction changed a saga instance first. */
export function sagaConflict(saga: string, key: string, expectedVersion: number | undefined): MailroomError {
  const what = expectedVersion === undefined ? 'was started by another message at the same time' : `moved past version ${expectedVersion}`;
  return new MailroomError(ErrorCodes.SAGA_CONFLICT, `Saga ${saga} instance ${JSON.stringify(key)} ${what}; the message is retried on the fresh state`, {
    details: { saga, key, expectedVersion },
  });
}

/** Serializes what a store keeps of an instance (state and compensation steps) as one JSON document. */
export function encodeSagaData(data: SagaData): string {
  return JSON.stringify({ state: data.state, compensations: data.compensations });
}

/** Reads a document written by {@link encodeSagaData}. */
export function decodeSagaData(text: string): SagaData {
  const parsed = JSON.parse(text) as { state?: unknown; compensations?: CompensationStep[] };
  return { state: parsed.state, compensations: parsed.compensations ?? [] };
}

/**
 * A saga store in this process's memory, for tests and the in-memory transport: no transaction
 * (the check happens at `update`), nothing survives the process. Keeps the same optimistic
 * concurrency guarantee as the SQL stores.
 */
export function createMemorySagaStore(): SagaStore<unknown> {
  const rows = new Map<string, { instanceId: string; version: number; data: string; completedAt: Date | undefined }>();
  const id = (saga: string, key: string) => JSON.stringify([saga, key]);
  return {
    async load(_tx, saga, key) {
      const row = rows.get(id(saga, key));
      if (!row) return undefined;
      return { saga, key, instanceId: row.instanceId, version: row.version, completedAt: row.completedAt, ...decodeSagaData(row.data) };
    },
    async insert(_tx, saga, key, change) {
      if (rows.has(id(saga, key))) throw sagaConflict(saga, key, undefined);
      rows.set(id(saga, key), {
        instanceId: change.instanceId,
        version: 1,
        data: encodeSagaData(change),
        completedAt: change.completed ? new Date() : undefined,
      });
    },
    async update(_tx, saga, key, expectedVersion, change) {
      const row = rows.get(id(saga, key));
      if (row?.version !== expectedVersion) throw sagaConflict(saga, key, expectedVersion);
      rows.set(id(saga, key), {
        instanceId: change.instanceId,
        version: expectedVersion + 1,
        data: encodeSagaData(change),
        completedAt: change.completed ? new Date() : undefined,
      });
    },
  };
}
