import type { OutgoingMessage } from './transport.js';

/**
 * A message waiting in the outbox: what the relay hands the transport, plus an optional ordering
 * key. Messages that share an ordering key are relayed one after another, in the order they were
 * written; messages without one are relayed in parallel.
 */
export interface OutboxMessage extends OutgoingMessage {
  // `deliverAt` (from OutgoingMessage) is stored with the row and handed to the transport by the relay.
  /** The aggregate (order id, account id...) whose messages must leave in order; undefined for no ordering. */
  readonly orderingKey?: string | undefined;
}

/** One outbox row as a relay claimed it. */
export interface OutboxRecord {
  /** The store's sequence number of the row, as a decimal string; increases with insertion order. */
  readonly id: string;
  readonly message: OutboxMessage;
  /** Failed relay attempts so far (0 for a fresh row). */
  readonly attempts: number;
  readonly createdAt: Date;
}

/** What a relay did with the records of a claim. */
export interface OutboxOutcome {
  /** Ids the transport confirmed: marked sent (or deleted when the retention is 0). */
  readonly sent: readonly string[];
  /** Ids the transport refused: their attempt count goes up and they wait until `retryAt`. */
  readonly failed: readonly OutboxFailure[];
}

/** A record the transport did not take, and when to try it again. */
export interface OutboxFailure {
  readonly id: string;
  readonly error: string;
  readonly retryAt: Date;
}

/**
 * Rows claimed by one relay: no other relay receives them until the claim ends (by `complete`, at
 * `expiresAt`, or because the claiming process died: PostgreSQL frees them when the connection
 * drops, SQLite when the lease runs out). Rows neither sent nor failed in the outcome are released
 * unchanged.
 */
export interface OutboxClaim {
  readonly records: readonly OutboxRecord[];
  /**
   * When the claim ends by itself even though its relay lives on (SQLite: the lease runs out;
   * PostgreSQL: the server ends the claiming session, idle since the claim, after `claimTimeoutMs`).
   * From then on another relay may claim the rows, so a relay must not publish them past it.
   */
  readonly expiresAt: Date;
  /** Records the outcome and ends the claim. Throws when the database is unreachable; the rows are then claimed again later. */
  complete(outcome: OutboxOutcome): Promise<void>;
}

/** How many rows an outbox holds. */
export interface OutboxCounts {
  /** Rows not yet confirmed by the transport. */
  readonly unsent: number;
  /** Rows sent and kept until their retention ends. */
  readonly sent: number;
  /** When the oldest unsent row was written; undefined when every row is sent (or the store cannot tell). */
  readonly oldestUnsentAt?: Date | undefined;
}

/**
 * The outbox table of a service's database. Guarantees: `add` writes inside the caller's
 * transaction (the rows exist if and only if it commits); `claim` never hands a row to two live
 * relays at once; for an ordering key it returns only rows whose every older unsent row of the
 * same key is in the same claim, oldest first, so a key's messages leave in order.
 */
export interface OutboxStore<Tx> {
  /** Stores messages inside `tx`. Throws `MAILROOM_ERR_PERSISTENCE_NO_TRANSACTION` when the store can tell `tx` is not in a transaction. */
  add(tx: Tx, messages: readonly OutboxMessage[]): Promise<void>;
  /** Claims up to `limit` due rows, oldest first. An empty claim means nothing is due. */
  claim(limit: number): Promise<OutboxClaim>;
  /** Deletes up to `limit` rows sent before `before`; returns how many. */
  purgeSent(before: Date, limit: number): Promise<number>;
  /** Counts unsent and kept sent rows. */
  counts(): Promise<OutboxCounts>;
  /**
   * Optional: called by the persistence right after a transaction of its own that added rows
   * committed, and by `persistence.wake()`. A store whose `add` already delivers the messages (the
   * PostgreSQL transport's own table, with no relay) tells the consumers here.
   */
  wake?(): void;
}

/**
 * The inbox table of a service's database: which messages each endpoint processed. Guarantees:
 * `record` writes inside the caller's transaction, so a record exists if and only if the handler's
 * transaction committed; of concurrent `record` calls for one (endpoint, id), exactly one returns
 * true once its transaction commits (the others wait for it and return false, or take over if it
 * rolls back).
 */
export interface InboxStore<Tx> {
  /** Records that `endpoint` processed `messageId`; false when already recorded (a duplicate). */
  record(tx: Tx, endpoint: string, messageId: string): Promise<boolean>;
  /** Whether a committed record exists. */
  has(endpoint: string, messageId: string): Promise<boolean>;
  /** Deletes up to `limit` records made before `before`; returns how many. */
  purge(before: Date, limit: number): Promise<number>;
}

/**
 * A service's database as the stores need it: idempotent migrations and transactions on the
 * user's own client. `Tx` is the client type inside a transaction.
 */
export interface MessageDatabase<Tx> {
  /** Short name for logs, such as `sqlite` or `postgres`. */
  readonly name: string;
  /** Creates or upgrades the Mailroom tables; safe to run from several processes at once. */
  migrate(): Promise<void>;
  /** Runs `work` in one transaction: commits when it resolves, rolls back when it rejects. */
  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
}
