import { describeOperationStore, Services, serviceAvailable, sleep } from '@mailroom/conformance';
import { ErrorCodes, type OperationStore } from '@mailroom/core';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresOperationStore } from '../src/index.js';
import { postgresOperationStoreFixture } from '../src/testing/index.js';
import { POSTGRES_URL, testPool, uniqueSchema } from './pg-fixture.js';

const available = await serviceAvailable(Services.postgres);

/** Never connects: the option checks only build a store. */
const unusedPool = { query: async () => ({ rows: [], rowCount: 0 }), connect: async () => ({}) } as never;

it('refuses a missing pool with MAILROOM_ERR_OPERATION_CONFIG', () => {
  expect(() => createPostgresOperationStore({} as never)).toThrow(expect.objectContaining({ code: ErrorCodes.OPERATION_CONFIG }));
});

describe.runIf(available)('postgres', () => {
  describeOperationStore({
    name: 'postgres',
    create: () => postgresOperationStoreFixture(POSTGRES_URL),
    names: { open: (names) => createPostgresOperationStore({ pool: unusedPool, ...names }), schemas: true },
  });

  describe('PostgreSQL operation store', () => {
    const schema = uniqueSchema();
    let pool: pg.Pool;
    let admin: pg.Pool;
    let store: OperationStore;
    beforeAll(async () => {
      pool = testPool(2, schema);
      admin = testPool(2, `${schema}-admin`);
      store = createPostgresOperationStore({ pool, schema });
      await store.migrate();
    });
    afterAll(async () => {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await Promise.all([pool.end(), admin.end()]);
    });

    it('turns a connection lost inside a store transaction into a rejected call, not an uncaught client error', async () => {
      const holder = await admin.connect();
      try {
        // Hold the operation's lock, so the store's transaction waits on it while its backend is terminated.
        await holder.query('BEGIN');
        await holder.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`mailroom-operation:${schema}.mailroom_:op-lost`]);
        const appending = store.append('op-lost', { type: 'shop.step', messageId: 'm-1', at: new Date() }, () => undefined);
        const outcome = appending.then(
          () => 'resolved',
          (error: Error) => error.message,
        );
        let pid: number | undefined;
        for (let i = 0; i < 200 && pid === undefined; i++) {
          const { rows } = await admin.query<{ pid: number }>(
            `SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%hashtextextended%' AND pid <> $1 AND application_name = $2`,
            [(holder as unknown as { processID: number }).processID, schema],
          );
          pid = rows[0]?.pid;
          if (pid === undefined) await sleep(10);
        }
        expect(pid).toBeDefined();
        await admin.query('SELECT pg_terminate_backend($1)', [pid]);
        expect(await outcome).toMatch(/terminat/);
        await sleep(100); // an unhandled 'error' event would surface here
        // The pool replaced the lost client: the store goes on working.
        expect(await store.append('op-after', { type: 'shop.step', messageId: 'm-2', at: new Date() }, () => undefined)).toBe('early');
      } finally {
        await holder.query('ROLLBACK');
        holder.release();
      }
    });
  });
});
