import { decodeSagaData, ErrorCodes, encodeSagaData, MailroomError, type SagaChange, type SagaStore, type StoredSaga, sagaConflict } from '@mailroom/core';
import type { Database, Statement } from 'better-sqlite3';
import type { SqliteTables } from './sqlite-tables.js';

interface SagaRow {
  instance_id: string;
  version: number;
  data: string;
  completed_at: number | null;
}

/**
 * Saga instances in SQLite: one row per (saga, key) with a version column, written in the
 * handler's transaction. `update` changes the row only while its version is the one the handler
 * loaded, else it throws `MAILROOM_ERR_SAGA_CONFLICT`. SQLite runs the write transactions of a
 * database file one at a time (`BEGIN IMMEDIATE`), so handlers going through the endpoint see each
 * other's committed changes; the check guards writers that load outside such a transaction.
 */
export class SqliteSagaStore implements SagaStore<Database> {
  private statements: { load: Statement; insert: Statement; update: Statement } | undefined;

  constructor(
    private readonly db: Database,
    private readonly tables: SqliteTables,
  ) {}

  async load(tx: Database, saga: string, key: string): Promise<StoredSaga | undefined> {
    const row = this.prepared(tx).load.get(saga, key) as SagaRow | undefined;
    if (!row) return undefined;
    return {
      saga,
      key,
      instanceId: row.instance_id,
      version: row.version,
      completedAt: row.completed_at === null ? undefined : new Date(row.completed_at),
      ...decodeSagaData(row.data),
    };
  }

  async insert(tx: Database, saga: string, key: string, change: SagaChange): Promise<void> {
    const now = Date.now();
    const { changes } = this.prepared(this.inTransaction(tx)).insert.run(
      saga,
      key,
      change.instanceId,
      encodeSagaData(change),
      now,
      now,
      change.completed ? now : null,
    );
    if (changes !== 1) throw sagaConflict(saga, key, undefined);
  }

  async update(tx: Database, saga: string, key: string, expectedVersion: number, change: SagaChange): Promise<void> {
    const now = Date.now();
    const { changes } = this.prepared(this.inTransaction(tx)).update.run(
      change.instanceId,
      encodeSagaData(change),
      now,
      change.completed ? now : null,
      saga,
      key,
      expectedVersion,
    );
    if (changes !== 1) throw sagaConflict(saga, key, expectedVersion);
  }

  private inTransaction(tx: Database): Database {
    if (!tx.inTransaction) {
      throw new MailroomError(ErrorCodes.PERSISTENCE_NO_TRANSACTION, 'SQLite saga store: writes must run inside a transaction (a handler of the endpoint)');
    }
    return tx;
  }

  private prepared(db: Database) {
    if (db !== this.db)
      throw new MailroomError(ErrorCodes.PERSISTENCE_CONFIG, 'SQLite saga store: tx must be the Database connection the store was created with');
    const t = this.tables.sagas;
    this.statements ??= {
      load: db.prepare(`SELECT instance_id, version, data, completed_at FROM ${t} WHERE saga = ? AND saga_key = ?`),
      insert: db.prepare(
        `INSERT INTO ${t} (saga, saga_key, instance_id, version, data, created_at, updated_at, completed_at) VALUES (?, ?, ?, 1, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ),
      update: db.prepare(
        `UPDATE ${t} SET instance_id = ?, version = version + 1, data = ?, updated_at = ?, completed_at = ? WHERE saga = ? AND saga_key = ? AND version = ?`,
      ),
    };
    return this.statements;
  }
}
