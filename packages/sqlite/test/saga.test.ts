import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeSagaStore } from '@mailroom/conformance';
import type Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import {
  createSqliteDatabase,
  createSqlitePersistence,
  createSqliteTransport,
  migrateSqlite,
  SQLITE_SCHEMA_VERSION,
  SqliteSagaStore,
  sqliteTables,
} from '../src/index.js';
import { openDatabase } from './persistence-fixture.js';

describeSagaStore<Database.Database>({
  name: 'sqlite',
  serializesWrites: true,
  create: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-sqlite-sagas-'));
    const path = join(dir, 'service.db');
    const db = openDatabase(path);
    const tables = sqliteTables();
    migrateSqlite(db, tables);
    return {
      dir,
      database: createSqliteDatabase(db, tables),
      sagas: new SqliteSagaStore(db, tables),
      persistence: (options = {}) => createSqlitePersistence({ database: db, relay: options.relay ?? { pollIntervalMs: 50 } }),
      spawnSagaChild: (names, brokerPath) =>
        spawn(
          process.execPath,
          ['--conditions=source', '--import', 'tsx', join(import.meta.dirname, 'fixtures', 'saga-child.ts'), JSON.stringify(names), brokerPath, path],
          { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, MAILROOM_LOG_LEVEL: 'silent' } },
        ),
      brokerTransport: (brokerPath) => createSqliteTransport({ path: brokerPath }),
      dispose: async () => {
        db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
});

describe('sqlite saga table', () => {
  it('is created by the schema step that brings the Mailroom tables to SQLITE_SCHEMA_VERSION', () => {
    const db = openDatabase(':memory:');
    const tables = sqliteTables('sagas_');
    migrateSqlite(db, tables);
    expect(db.prepare(`SELECT max(version) AS version FROM ${tables.migrations}`).get()).toEqual({ version: SQLITE_SCHEMA_VERSION });
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?").get(tables.sagas)).toEqual({ name: 'sagas_sagas' });
    db.close();
  });
});
