import { describeOperationStore } from '@mailroom/conformance';
import { ErrorCodes } from '@mailroom/core';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
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

it('refuses a missing database with MAILROOM_ERR_OPERATION_CONFIG', () => {
  expect(() => createSqliteOperationStore({} as never)).toThrow(expect.objectContaining({ code: ErrorCodes.OPERATION_CONFIG }));
});
