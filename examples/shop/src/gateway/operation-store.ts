import type { OperationStore } from '@mailroom/core';
import { createPostgresOperationStore } from '@mailroom/postgres';
import { createSqliteOperationStore } from '@mailroom/sqlite';
import BetterSqlite3 from 'better-sqlite3';
import type { ServiceDatabase } from '../runtime/service-database.js';

/**
 * The gateway's operation store, in the gateway's own database: on PostgreSQL its pool, on SQLite a
 * connection of its own to the gateway's file (the store opens its own transactions on it).
 * Resolves with the store and a function closing what it opened.
 */
export function openOperationStore(db: ServiceDatabase): { store: OperationStore; close: () => void } {
  if (db.connection.kind === 'postgres') return { store: createPostgresOperationStore({ pool: db.connection.pool }), close: () => undefined };
  const connection = new BetterSqlite3(db.connection.file, { timeout: 10_000 });
  connection.pragma('journal_mode = WAL');
  return { store: createSqliteOperationStore({ database: connection }), close: () => connection.close() };
}
