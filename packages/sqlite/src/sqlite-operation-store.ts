import { ErrorCodes, MailroomError, type OperationStore } from '@mailroom/core';
import { assertSqlIdentifier, type SqlDialect, SqlOperationStore, type SqlProgram, type SqlStep } from '@mailroom/core/internal';
import type { Database, Statement } from 'better-sqlite3';
import { connectionLock } from './sqlite-connection-lock.js';

/** Options of {@link createSqliteOperationStore}. */
export interface SqliteOperationStoreOptions {
  /**
   * Your better-sqlite3 connection. Several processes may open the same file; better-sqlite3's
   * busy timeout (5 s by default) makes a writer wait for another process's short transaction.
   */
  database: Database;
  /** Prefix of the store's table names. Default `mailroom_`. */
  tablePrefix?: string;
}

function sqliteDialect(db: Database): SqlDialect {
  const statements = new Map<string, Statement>();
  const prepare = (sql: string) => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  const execute = (step: SqlStep): unknown =>
    step.op === 'all' ? prepare(step.sql).all(...step.params) : Number(prepare(step.sql).run(...step.params).changes);
  // Runs a whole program synchronously: nothing else in this process can interleave with it.
  const drive = <T>(program: SqlProgram<T>): T => {
    let next = program.next();
    while (!next.done) next = program.next(execute(next.value));
    return next.value;
  };
  // Every call takes the file's connection lock, as the outbox, inbox and saga stores do: a
  // transaction of another connection to the file that is open across an await (a handler's) is
  // waited for instead of blocking the event loop in SQLite's busy wait until the busy timeout.
  const lock = connectionLock(db);
  return {
    name: 'sqlite',
    read: (program) => lock.run(() => drive(program())),
    // BEGIN IMMEDIATE takes SQLite's single write lock at once, which serializes every writer.
    transaction: <T>(_lockKey: string, program: () => SqlProgram<T>) => lock.run(() => db.transaction(() => drive(program())).immediate()),
    migrate: (statements) =>
      lock.run(() =>
        db
          .transaction(() => {
            for (const statement of statements) prepare(statement).run();
          })
          .immediate(),
      ),
    table: (name) => `"${name}"`,
  };
}

/**
 * An {@link OperationStore} in SQLite over your better-sqlite3 connection, next to the SQLite
 * outbox, inbox and saga stores. Each store call runs as one synchronous `BEGIN IMMEDIATE`
 * transaction under the file's connection lock (see {@link connectionLock}), so it never interleaves
 * with other work in the process and waits for a Mailroom transaction open on the same file; called
 * from inside such a transaction's call chain it throws `MAILROOM_ERR_PERSISTENCE_STATE` instead of
 * waiting for ever. Call `migrate()` once
 * (idempotent) before use; `@mailroom/http`'s tracker does it on start. Throws
 * `MAILROOM_ERR_OPERATION_CONFIG` for a missing connection or a malformed table prefix.
 */
export function createSqliteOperationStore(options: SqliteOperationStoreOptions): OperationStore {
  const database = options?.database;
  if (!database || typeof database.prepare !== 'function' || typeof database.transaction !== 'function') {
    throw new MailroomError(ErrorCodes.OPERATION_CONFIG, 'createSqliteOperationStore needs database: a better-sqlite3 Database (new Database(file))');
  }
  const prefix = assertSqlIdentifier(options.tablePrefix ?? 'mailroom_', 'operation store tablePrefix', false, ErrorCodes.OPERATION_CONFIG);
  return new SqlOperationStore(sqliteDialect(database), prefix);
}
