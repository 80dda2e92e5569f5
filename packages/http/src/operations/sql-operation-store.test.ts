import { isMailroomError } from '@mailroom/core';
import { assertSqlIdentifier } from '@mailroom/core/internal';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { HttpErrorCodes } from '../errors.js';
import { createPostgresOperationStore } from './postgres-operation-store.js';
import { createSqliteOperationStore } from './sqlite-operation-store.js';

describe('operation store names', () => {
  it('follow the SQL identifier rule of the persistence (at most 40 characters), refused with MAILROOM_ERR_OPERATION_CONFIG', () => {
    const database = new Database(':memory:');
    const pool = { query: async () => ({ rows: [] }), connect: async () => ({}) } as never;
    try {
      const longest = `p${'x'.repeat(39)}`;
      expect(() => assertSqlIdentifier(longest, 'prefix')).not.toThrow();
      expect(() => createSqliteOperationStore({ database, tablePrefix: longest })).not.toThrow();
      expect(() => createPostgresOperationStore({ pool, schema: longest, tablePrefix: longest })).not.toThrow();
      const tooLong = `${longest}x`;
      const refused = (run: () => unknown) => {
        try {
          run();
        } catch (error) {
          return isMailroomError(error, HttpErrorCodes.OPERATION_CONFIG);
        }
        return false;
      };
      expect(refused(() => createSqliteOperationStore({ database, tablePrefix: tooLong }))).toBe(true);
      expect(refused(() => createPostgresOperationStore({ pool, schema: tooLong }))).toBe(true);
      expect(refused(() => createPostgresOperationStore({ pool, tablePrefix: 'Not An Identifier' }))).toBe(true);
    } finally {
      database.close();
    }
  });
});
