import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OperationStoreFixture } from '@mailroom/conformance';
import Database from 'better-sqlite3';
import { createSqliteOperationStore } from '../sqlite-operation-store.js';

/**
 * A fresh SQLite database file in a temporary directory for operation store tests: each `store()`
 * opens a connection of its own to it (WAL mode), as another process would; `dispose()` closes
 * them all and deletes the directory. What `describeOperationStore` takes as `create`.
 */
export async function sqliteOperationStoreFixture(): Promise<OperationStoreFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-sqlite-operations-'));
  const connections: Database.Database[] = [];
  return {
    async store() {
      const database = new Database(join(dir, 'operations.db'));
      database.pragma('journal_mode = WAL');
      connections.push(database);
      return createSqliteOperationStore({ database });
    },
    async dispose() {
      for (const connection of connections) connection.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
