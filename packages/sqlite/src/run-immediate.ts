import type { Database, Statement } from 'better-sqlite3';

interface ControlStatements {
  readonly begin: Statement;
  readonly commit: Statement;
  readonly rollback: Statement;
}

// Prepared once per connection, on first use: `exec` would parse the statement again for every transaction.
const prepared = new WeakMap<Database, ControlStatements>();

function control(db: Database): ControlStatements {
  let statements = prepared.get(db);
  if (statements === undefined) {
    statements = { begin: db.prepare('BEGIN IMMEDIATE'), commit: db.prepare('COMMIT'), rollback: db.prepare('ROLLBACK') };
    prepared.set(db, statements);
  }
  return statements;
}

/**
 * Runs synchronous `work` in one `BEGIN IMMEDIATE` ... `COMMIT` transaction on `db` (taking
 * SQLite's write lock at once) and returns its result. When `work` throws (or `COMMIT` fails), it
 * rolls back if a transaction is still open and rethrows. The caller holds the connection lock (see
 * `connectionLock`), so no other transaction of the connection is open. The control statements are
 * prepared once per connection.
 */
export function runImmediate<T>(db: Database, work: () => T): T {
  const s = control(db);
  s.begin.run();
  try {
    const result = work();
    s.commit.run();
    return result;
  } catch (error) {
    if (db.inTransaction) s.rollback.run();
    throw error;
  }
}

/**
 * {@link runImmediate} for asynchronous `work`: commits once `work` resolves, rolls back (if a
 * transaction is still open) and rejects when it rejects. The caller holds the connection lock for
 * the whole call, so nothing else uses the connection while the transaction is open across awaits.
 */
export async function runImmediateAsync<T>(db: Database, work: () => Promise<T>): Promise<T> {
  const s = control(db);
  s.begin.run();
  try {
    const result = await work();
    s.commit.run();
    return result;
  } catch (error) {
    if (db.inTransaction) s.rollback.run();
    throw error;
  }
}
