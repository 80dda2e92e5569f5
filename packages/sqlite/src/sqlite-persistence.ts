import { createStorePersistence, ErrorCodes, MailroomError, type RelayTuning, type StorePersistence } from '@mailroom/core';
import type { Database } from 'better-sqlite3';
import { createSqliteDatabase } from './sqlite-database.js';
import { SqliteInboxStore } from './sqlite-inbox-store.js';
import { SqliteOutboxStore } from './sqlite-outbox-store.js';
import { SqliteSagaStore } from './sqlite-saga-store.js';
import { sqliteTables } from './sqlite-tables.js';

/** Options of {@link createSqlitePersistence}. */
export interface SqlitePersistenceOptions {
  /**
   * Your better-sqlite3 connection to the service's own database file (use WAL mode). Mailroom
   * never closes it. While a Mailroom transaction is open (it spans the awaits of a handler), any
   * other statement run on this connection joins that transaction: give Mailroom a connection of
   * its own, or run every write on it through `persistence.transaction` / `endpoint.transaction`.
   */
  database: Database;
  /** Prefix of the Mailroom table and index names. Default `mailroom_`. */
  tablePrefix?: string;
  /** How long a relay's claim holds its rows (rows of a relay that died come back after it). Default 30 000 ms. */
  leaseMs?: number;
  /** Relay settings, or `false` when another process relays this outbox. */
  relay?: RelayTuning | false;
  /** How long inbox records are kept; keep it longer than any redelivery window. Default 7 days. */
  inboxRetentionMs?: number;
  /** How often expired inbox records are deleted. Default 60 000 ms. */
  inboxCleanupIntervalMs?: number;
}

/**
 * Creates the SQLite persistence of an endpoint: outbox and inbox tables in the service's own
 * database file (created on start, idempotently), transactions on your better-sqlite3 connection,
 * and the relay. Guarantees: messages written in a transaction leave if and only if it commits; a
 * handler's inbox record, its writes and its outgoing messages commit together. Consequence of
 * the synchronous driver: the transactions of one connection run one at a time (a handler's
 * transaction holds the connection and SQLite's write lock across its awaits), so handlers of an
 * endpoint do their database work one after another. Throws `MAILROOM_ERR_PERSISTENCE_CONFIG` for bad options.
 */
export function createSqlitePersistence(options: SqlitePersistenceOptions): StorePersistence<Database> {
  const database = options?.database;
  if (typeof database?.prepare !== 'function' || typeof database.exec !== 'function') {
    throw new MailroomError(
      ErrorCodes.PERSISTENCE_CONFIG,
      "createSqlitePersistence needs { database }: your better-sqlite3 connection to the service's database, e.g. new Database('orders.db')",
    );
  }
  const tables = sqliteTables(options.tablePrefix);
  return createStorePersistence<Database>({
    database: createSqliteDatabase(database, tables),
    outbox: new SqliteOutboxStore({ database, tables, ...(options.leaseMs !== undefined && { leaseMs: options.leaseMs }) }),
    inbox: new SqliteInboxStore(database, tables),
    sagas: new SqliteSagaStore(database, tables),
    ...(options.relay !== undefined && { relay: options.relay }),
    ...(options.inboxRetentionMs !== undefined && { inboxRetentionMs: options.inboxRetentionMs }),
    ...(options.inboxCleanupIntervalMs !== undefined && { inboxCleanupIntervalMs: options.inboxCleanupIntervalMs }),
  });
}
