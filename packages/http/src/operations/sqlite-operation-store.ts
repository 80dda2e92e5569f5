import { MailroomError } from '@mailroom/core';
import { HttpErrorCodes } from '../errors.js';
import type { OperationStore } from './operation-store.js';
import { checkIdentifier, type SqlDialect, type SqlExecutor, SqlOperationStore } from './sql-operation-store.js';

/** The part of a better-sqlite3 statement the store uses. */
export interface SqliteStatementLike {
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): { changes: number | bigint };
}

/** The part of a better-sqlite3 `Database` the store uses: a `new Database(file)` fits as it is. */
export interface SqliteDatabaseLike {
  prepare(sql: string): SqliteStatementLike;
  exec(sql: string): unknown;
  readonly inTransaction: boolean;
}

/** Options of {@link createSqliteOperationStore}. */
export interface SqliteOperationStoreOptions {
  /** Your better-sqlite3 connection. Give the store a connection of its own (its own file fits best): it opens `BEGIN IMMEDIATE` transactions on it. */
  database: SqliteDatabaseLike;
  /** Prefix of the store's table names. Default `mailroom_`. */
  tablePrefix?: string;
}

function sqliteDialect(db: SqliteDatabaseLike): SqlDialect {
  const statements = new Map<string, SqliteStatementLike>();
  const prepare = (sql: string) => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  const executor: SqlExecutor = {
    all: async <R>(sql: string, params: readonly unknown[] = []) => prepare(sql).all(...params) as R[],
    run: async (sql: string, params: readonly unknown[] = []) => Number(prepare(sql).run(...params).changes),
  };
  // One connection runs one transaction at a time: later ones wait their turn in this process;
  // other processes wait on SQLite's write lock (better-sqlite3's busy timeout, 5 s by default).
  let queue: Promise<unknown> = Promise.resolve();
  return {
    name: 'sqlite',
    ...executor,
    transaction<T>(work: (sql: SqlExecutor) => Promise<T>): Promise<T> {
      const run = queue.then(async () => {
        db.exec('BEGIN IMMEDIATE');
        try {
          const result = await work(executor);
          db.exec('COMMIT');
          return result;
        } catch (error) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw error;
        }
      });
      queue = run.catch(() => undefined);
      return run;
    },
    lock: async () => {
      // BEGIN IMMEDIATE already holds the database's single write lock.
    },
    async migrate(statements: readonly string[]) {
      await this.transaction(async (sql) => {
        for (const statement of statements) await sql.run(statement);
      });
    },
    table: (name: string) => `"${name}"`,
  };
}

/**
 * An {@link OperationStore} in SQLite over your better-sqlite3 connection. Call `migrate()` once
 * (idempotent) before use; the tracker does it on start. Throws `MAILROOM_ERR_OPERATION_CONFIG`
 * for a missing connection or a malformed table prefix.
 */
export function createSqliteOperationStore(options: SqliteOperationStoreOptions): OperationStore {
  const database = options?.database;
  if (!database || typeof database.prepare !== 'function' || typeof database.exec !== 'function') {
    throw new MailroomError(HttpErrorCodes.OPERATION_CONFIG, 'createSqliteOperationStore needs database: a better-sqlite3 Database (new Database(file))');
  }
  const prefix = checkIdentifier(options.tablePrefix ?? 'mailroom_', 'tablePrefix');
  return new SqlOperationStore(sqliteDialect(database), prefix);
}
