import type { Disposable } from './relay.js';

/** Where an operation stands: `pending` until one of the three terminal states, which are final. */
export type OperationStatus = 'pending' | 'completed' | 'failed' | 'timed-out';

/** What one history entry of an operation records. */
export type OperationEntryKind = 'started' | 'step' | 'completed' | 'failed' | 'timed-out';

/** A step an operation expects, in the order its definition lists them. */
export interface OperationStep {
  /** The event type that marks the step done. */
  readonly type: string;
  /** A human label for UIs; default the type. */
  readonly label: string;
}

/** One entry of an operation's history; `seq` counts from 1 without gaps and is the SSE event id. */
export interface OperationEntry {
  readonly seq: number;
  readonly kind: OperationEntryKind;
  /** The event (or starting message) type; `mailroom.operation.*` for entries the tracker makes itself. */
  readonly type: string;
  /** The message id (`ce-id`) that caused the entry, unique within the operation. */
  readonly messageId: string;
  /** When it happened: the message's `ce-time` (RFC 3339). */
  readonly at: string;
  /** When the store recorded it (RFC 3339). */
  readonly recordedAt: string;
  /** What the definition's `project` kept of the payload, if anything. */
  readonly data?: unknown;
}

/** The fixed facts of an operation, set when it is recorded. */
export interface OperationHeader {
  readonly id: string;
  readonly name: string;
  readonly steps: readonly OperationStep[];
  readonly startedAt: string;
  /** When it turns `timed-out` if still pending; undefined when it has no timeout. */
  readonly deadline: string | undefined;
}

/** What {@link OperationStore.create} records. */
export interface NewOperation {
  readonly id: string;
  readonly name: string;
  readonly steps: readonly OperationStep[];
  readonly startedAt: Date;
  readonly deadline: Date | undefined;
  /** The starting message: entry 1 of the history. */
  readonly started: { readonly type: string; readonly messageId: string; readonly data?: unknown };
}

/** An event for an operation as the tracker received it, with the raw payload. */
export interface OperationEvent {
  readonly type: string;
  readonly messageId: string;
  readonly at: Date;
  /** The payload; the classifier decides what of it is kept. */
  readonly data?: unknown;
}

/** What an event means for an operation of a given name: its entry kind and the data to keep, or undefined when unrelated. */
export type OperationClassifier = (
  operationName: string,
  event: { readonly type: string; readonly data: unknown },
) => { kind: OperationEntryKind; data?: unknown } | undefined;

/**
 * What {@link OperationStore.append} did: `recorded` a new entry; ignored a `duplicate` message id;
 * ignored an event for a `final` (terminal) operation; ignored an event `unrelated` to the
 * operation's definition; kept an `early` event for an operation not recorded yet.
 */
export type AppendOutcome = 'recorded' | 'duplicate' | 'final' | 'unrelated' | 'early';

/** An operation as read from the store: its fixed facts and (part of) its history. */
export interface StoredOperation {
  readonly operation: OperationHeader;
  /** Entries with `seq` greater than the `afterSeq` asked for, in order. */
  readonly entries: readonly OperationEntry[];
}

/**
 * The database of operation status, kept by `@mailroom/http`'s tracker and read by its routes; the
 * SQL dialect packages implement it (`createSqliteOperationStore` in `@mailroom/sqlite`,
 * `createPostgresOperationStore` in `@mailroom/postgres`). Guarantees:
 * each append is atomic and serialized per operation, so `seq` grows by one without gaps and an
 * entry is readable only once every smaller `seq` is; terminal states are final; the same message
 * id is recorded at most once per operation; an event for an operation not recorded yet is kept
 * and applied (in event-time order) when the operation is recorded.
 */
export interface OperationStore {
  /** `sqlite` or `postgres`, for logs. */
  readonly dialect: string;
  /** Creates the tables and indexes if missing. Idempotent; safe from several processes at once. */
  migrate(): Promise<void>;
  /**
   * Records a new pending operation with its `started` entry, then applies the early events kept
   * for its id. Resolves false (and changes nothing) when the id is already recorded.
   */
  create(operation: NewOperation, classify: OperationClassifier): Promise<boolean>;
  /** Applies one event to an operation; see {@link AppendOutcome}. */
  append(operationId: string, event: OperationEvent, classify: OperationClassifier): Promise<AppendOutcome>;
  /** The operation and its entries after `afterSeq` (default 0: all), or undefined when unknown. */
  read(operationId: string, afterSeq?: number): Promise<StoredOperation | undefined>;
  /** Turns every pending operation whose deadline is at or before `now` to `timed-out`; resolves with their ids. */
  expire(now?: Date): Promise<string[]>;
  /** Deletes early events received before `before` (their operation never got recorded); resolves with how many. */
  purgeEarly(before: Date): Promise<number>;
  /** Calls `listener` after each commit that added entries to an operation, in this process only. */
  onAppend(listener: (operationId: string) => void): Disposable;
}
