import { describeOperationStore } from '@mailroom/conformance';
import Database from 'better-sqlite3';
import { afterAll } from 'vitest';
import { createSqliteOperationStore } from '../src/index.js';
import { sqliteOperationStoreFixture } from '../src/testing/index.js';

// The option checks never touch the database.
const memory = new Database(':memory:');
afterAll(() => memory.close());

describeOperationStore({
  name: 'sqlite',
  create: sqliteOperationStoreFixture,
  names: { open: ({ tablePrefix }) => createSqliteOperationStore({ database: memory, ...(tablePrefix !== undefined && { tablePrefix }) }), schemas: false },
});
