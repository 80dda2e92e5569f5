import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PersistenceFixture, StoreFixture, StoreSet } from '@mailroom/conformance';
import Database from 'better-sqlite3';
import {
  createSqliteDatabase,
  createSqlitePersistence,
  createSqliteTransport,
  migrateSqlite,
  SqliteInboxStore,
  SqliteOutboxStore,
  type SqliteTables,
  sqliteTables,
} from '../src/index.js';

/** Opens a connection the way the docs recommend: WAL mode, a busy timeout. */
export function openDatabase(path: string): Database.Database {
  const db = new Database(path, { timeout: 5000 });
  db.pragma('journal_mode = WAL');
  return db;
}

function storeSet(db: Database.Database, tables: SqliteTables): StoreSet<Database.Database> {
  return {
    database: createSqliteDatabase(db, tables),
    outbox: new SqliteOutboxStore({ database: db, tables }),
    inbox: new SqliteInboxStore(db, tables),
  };
}

/** A migrated, empty set of stores in a fresh database file, with a `business` table; dispose deletes the file. */
export async function createSqliteFixture(): Promise<StoreFixture<Database.Database>> {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-sqlite-persistence-'));
  const path = join(dir, 'service.db');
  const db = openDatabase(path);
  const connections = [db];
  const tables = sqliteTables('mr_');
  migrateSqlite(db, tables);
  db.exec('CREATE TABLE business (key TEXT NOT NULL)');
  return {
    ...storeSet(db, tables),
    business: {
      insert: async (tx, key) => {
        tx.prepare('INSERT INTO business (key) VALUES (?)').run(key);
      },
      count: async (key) => {
        const reader = openDatabase(path);
        try {
          return (reader.prepare('SELECT count(*) AS n FROM business WHERE key = ?').get(key) as { n: number }).n;
        } finally {
          reader.close();
        }
      },
    },
    another: async () => {
      const other = openDatabase(path);
      connections.push(other);
      return storeSet(other, tables);
    },
    dispose: async () => {
      for (const connection of connections) connection.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A migrated, empty service database file with the default tables and an `effects` table, for the
 * persistence suite; its relay processes hold `relayLeaseMs` leases. Dispose deletes the file.
 */
export async function createSqlitePersistenceFixture(relayLeaseMs = 500): Promise<PersistenceFixture<Database.Database>> {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-sqlite-persistence-'));
  const path = join(dir, 'service.db');
  const db = openDatabase(path);
  const connections = [db];
  const tables = sqliteTables();
  migrateSqlite(db, tables);
  db.exec('CREATE TABLE effects (message_id TEXT NOT NULL)');
  return {
    dir,
    outbox: new SqliteOutboxStore({ database: db, tables }),
    leasedOutbox: (leaseMs) => {
      const connection = openDatabase(path);
      connections.push(connection);
      return new SqliteOutboxStore({ database: connection, tables, leaseMs });
    },
    persistence: () => {
      const connection = openDatabase(path);
      connections.push(connection);
      return createSqlitePersistence({ database: connection, relay: false });
    },
    effects: {
      insert: async (tx, messageId) => {
        tx.prepare('INSERT INTO effects (message_id) VALUES (?)').run(messageId);
      },
      counts: async () =>
        db.prepare('SELECT message_id AS messageId, count(*) AS n FROM effects GROUP BY message_id').all() as { messageId: string; n: number }[],
    },
    inboxRecords: async (endpoint) => (db.prepare(`SELECT count(*) AS n FROM ${tables.inbox} WHERE endpoint = ?`).get(endpoint) as { n: number }).n,
    brokerTransport: (brokerPath) => createSqliteTransport({ path: brokerPath, pollIntervalMs: 50 }),
    relayProcess: async (brokerPath, killAfterBatches) => [
      '--conditions=source',
      '--import',
      'tsx',
      join(import.meta.dirname, 'fixtures', 'outbox-relay.ts'),
      path,
      brokerPath,
      String(relayLeaseMs),
      String(killAfterBatches),
    ],
    dispose: async () => {
      for (const connection of connections) connection.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
