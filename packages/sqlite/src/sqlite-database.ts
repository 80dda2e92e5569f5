import type { MessageDatabase } from '@mailroom/core';
import type { Database, Statement } from 'better-sqlite3';
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
  // Prepared once, on first use: `exec` would parse the statement again for every transaction.
  let statements: Record<'begin' | 'commit' | 'rollback', Statement> | undefined;
  const control = () => (statements ??= { begin: db.prepare('BEGIN IMMEDIATE'), commit: db.prepare('COMMIT'), rollback: db.prepare('ROLLBACK') });
  return {
    name: 'sqlite',
    migrate: () => lock.run(() => migrateSqlite(db, tables)),
    transaction: <T>(work: (tx: Database) => Promise<T>) =>
      lock.run(async () => {
        const s = control();
        s.begin.run();
        try {
          const result = await work(db);
          s.commit.run();
          return result;
        } catch (error) {
          if (db.inTransaction) s.rollback.run();
          throw error;
        }
      }),
  };
}
