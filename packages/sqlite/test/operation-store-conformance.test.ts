import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeOperationStore } from '@mailroom/conformance';
import Database from 'better-sqlite3';
import { afterAll } from 'vitest';
import { createSqliteOperationStore } from '../src/index.js';

// The option checks never touch the database.
const memory = new Database(':memory:');
afterAll(() => memory.close());

describeOperationStore({
  name: 'sqlite',
  async create() {
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
  },
  names: { open: ({ tablePrefix }) => createSqliteOperationStore({ database: memory, ...(tablePrefix !== undefined && { tablePrefix }) }), schemas: false },
});
