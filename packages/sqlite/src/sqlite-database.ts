import type { MessageDatabase } from '@mailroom/core';
import type { Database } from 'better-sqlite3';
import { runImmediateAsync } from './run-immediate.js';
import { connectionLock } from './sqlite-connection-lock.js';
import { migrateSqlite } from './sqlite-migrations.js';
import type { SqliteTables } from './sqlite-tables.js';

/**
 * The service's SQLite database as the stores use it. `transaction` runs `BEGIN IMMEDIATE` ...
 * `COMMIT` on your connection under its {@link ConnectionLock}: transactions of one connection run
 * one at a time (each holds SQLite's write lock until it ends, so other processes on the file wait
 * for it too); it rolls back when `work` rejects.
 */
export function createSqliteDatabase(db: Database, tables: SqliteTables): MessageDatabase<Database> {
  const lock = connectionLock(db);
  return {
    name: 'sqlite',
    migrate: () => lock.run(() => migrateSqlite(db, tables)),
    transaction: <T>(work: (tx: Database) => Promise<T>) => lock.run(() => runImmediateAsync(db, () => work(db))),
  };
}
