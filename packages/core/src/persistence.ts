import type { Logger } from './logger.js';
import type { OutboxMessage } from './outbox.js';
import type { SagaStore } from './saga-store.js';
import type { Telemetry } from './telemetry/telemetry.js';
import type { MessageTransport } from './transport.js';

/**
 * A service's own database as an endpoint uses it: transactions, the inbox and the outbox.
 * Implemented by `@mailroom/sqlite` and `@mailroom/postgres`. `Tx` is the user's own client type
 * inside a transaction (a pg `PoolClient`, a better-sqlite3 `Database`).
 */
export interface Persistence<Tx> {
  /** Short name for logs, such as `sqlite` or `postgres`. */
  readonly name: string;
  /** The saga store in the same database, used by `endpoint.saga()`; its tables are created by `start`. Optional. */
  readonly sagas?: SagaStore<Tx> | undefined;
  /**
   * Creates the inbox and outbox tables (idempotent) and starts the relay that sends outbox rows
   * through `transport`. Called by `endpoint.start()`.
   */
  start(context: PersistenceContext): Promise<void>;
  /** Stops the relay after the send in progress. Called by `endpoint.stop()`. Idempotent. */
  stop(): Promise<void>;
  /** Runs `work` in one transaction: commits when it resolves, rolls back when it rejects. */
  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * Records that `endpoint` processed `messageId`, inside `tx`. Returns false when the record
   * already exists: the message is a duplicate and its effects are already committed.
   */
  recordInbox(tx: Tx, endpoint: string, messageId: string): Promise<boolean>;
  /**
   * Stores messages in the outbox inside `tx`; the relay sends them after the commit. `tx` is a
   * transaction opened by `transaction()` or one the user opened on their own client.
   */
  addToOutbox(tx: Tx, messages: readonly OutboxMessage[]): Promise<void>;
  /**
   * How the outbox is doing: rows waiting for the broker and the age of the oldest. Rejects when the
   * database cannot be reached. Optional: `endpoint.health()` reports the relay as unchecked without it.
   */
  health?(): Promise<OutboxHealth>;
}

/** The state of an outbox, for health checks and metrics. */
export interface OutboxHealth {
  /** Whether this process runs a relay for the outbox. */
  readonly relaying: boolean;
  /** Rows not yet confirmed by the broker. */
  readonly backlog: number;
  /** Age of the oldest of them in milliseconds; 0 when there is none. */
  readonly oldestAgeMs: number;
}

/** What an endpoint hands its persistence on start. */
export interface PersistenceContext {
  readonly endpoint: string;
  readonly transport: MessageTransport;
  readonly logger: Logger;
  /** The endpoint's telemetry, for the relay's spans and the outbox metrics; undefined when it is off. */
  readonly telemetry?: Telemetry | undefined;
}
