import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, isMailroomError } from '@mailroom/core';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteDatabase, createSqliteOperationStore, migrateSqlite, sqliteTables } from '../src/index.js';

describe('SQLite operation store beside a Mailroom transaction on the same file', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  });

  function open(path: string, busyTimeoutMs: number): Database.Database {
    const db = new Database(path, { timeout: busyTimeoutMs });
    db.pragma('journal_mode = WAL');
    cleanups.push(() => db.close());
    return db;
  }

  function setup() {
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-sqlite-operation-lock-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'gateway.db');
    const service = open(path, 5000);
    const tables = sqliteTables();
    migrateSqlite(service, tables);
    service.exec('CREATE TABLE orders (id TEXT NOT NULL)');
    // The store on a connection of its own with a short busy timeout: without the file's lock its
    // BEGIN IMMEDIATE would busy-wait (blocking the event loop) for the open transaction, and fail.
    const store = createSqliteOperationStore({ database: open(path, 200) });
    return { service, database: createSqliteDatabase(service, tables), store };
  }

  it('waits for a transaction open across an await instead of failing with SQLITE_BUSY', async () => {
    const { service, database, store } = setup();
    let migrated = false;
    const transaction = database.transaction(async (tx) => {
      tx.prepare('INSERT INTO orders (id) VALUES (?)').run('order-1');
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(migrated).toBe(false);
    });
    const migrating = store.migrate().then(() => {
      migrated = true;
    });
    await Promise.all([transaction, migrating]);
    expect(migrated).toBe(true);
    expect(service.prepare('SELECT count(*) AS n FROM orders').get()).toEqual({ n: 1 });
  });

  it('refuses a call from inside that transaction with MAILROOM_ERR_PERSISTENCE_STATE instead of waiting for ever', async () => {
    const { database, store } = setup();
    let refused: unknown;
    await database.transaction(async () => {
      await store.migrate().catch((error: unknown) => {
        refused = error;
      });
    });
    expect(isMailroomError(refused, ErrorCodes.PERSISTENCE_STATE)).toBe(true);
  });
});
