import { ErrorCodes, type InboxStore, MailroomError } from '@mailroom/core';
import type { Database, Statement } from 'better-sqlite3';
import { connectionLock } from './sqlite-connection-lock.js';
import type { SqliteTables } from './sqlite-tables.js';

/**
 * The inbox in SQLite: one row per (endpoint, message id), inserted with `INSERT OR IGNORE` in the
 * handler's transaction. SQLite runs write transactions one at a time, so of two racing handlers
 * the second sees the first's committed record.
 */
export class SqliteInboxStore implements InboxStore<Database> {
  private statements: { record: Statement; has: Statement; purge: Statement } | undefined;

  constructor(
    private readonly db: Database,
    private readonly tables: SqliteTables,
  ) {}

  async record(tx: Database, endpoint: string, messageId: string): Promise<boolean> {
    if (!tx.inTransaction) {
      throw new MailroomError(
        ErrorCodes.PERSISTENCE_NO_TRANSACTION,
        'SQLite inbox: record() must run inside a transaction (persistence.transaction or a handler)',
      );
    }
    return this.prepared(tx).record.run(endpoint, messageId, Date.now()).changes === 1;
  }

  has(endpoint: string, messageId: string): Promise<boolean> {
    return connectionLock(this.db).run(() => this.prepared(this.db).has.get(endpoint, messageId) !== undefined);
  }

  purge(before: Date, limit: number): Promise<number> {
    return connectionLock(this.db).run(() => this.prepared(this.db).purge.run(before.getTime(), limit).changes);
  }

  private prepared(db: Database) {
    if (db !== this.db) {
      throw new MailroomError(ErrorCodes.PERSISTENCE_CONFIG, 'SQLite inbox: tx must be the Database connection the store was created with');
    }
    this.statements ??= {
      record: db.prepare(`INSERT OR IGNORE INTO ${this.tables.inbox} (endpoint, message_id, processed_at) VALUES (?, ?, ?)`),
      has: db.prepare(`SELECT 1 FROM ${this.tables.inbox} WHERE endpoint = ? AND message_id = ?`),
      purge: db.prepare(
        `DELETE FROM ${this.tables.inbox} WHERE (endpoint, message_id) IN (SELECT endpoint, message_id FROM ${this.tables.inbox} WHERE processed_at < ? LIMIT ?)`,
      ),
    };
    return this.statements;
  }
}
