import { createMemoryTransport, ErrorCodes, isMailroomError } from '@mailroom/core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresPersistence, migratePostgres, POSTGRES_SCHEMA_VERSION, postgresTables } from '../src/index.js';
import { testPool, uniqueSchema } from './pg-fixture.js';

/** Options checked up front, migrations that are idempotent and safe to race, typed errors for misuse. */
export function describeConfigTests(): void {
  describe('configuration and migrations', () => {
    let pool: pg.Pool;
    beforeAll(() => {
      pool = testPool(8);
    });
    const schemas: string[] = [];
    afterAll(async () => {
      for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await pool.end();
    });

    it('fails fast on bad options with MAILROOM_ERR_PERSISTENCE_CONFIG', () => {
      const config = (e: unknown) => isMailroomError(e, ErrorCodes.PERSISTENCE_CONFIG);
      expect(() => createPostgresPersistence({} as never)).toThrow(/needs \{ pool \}/);
      for (const bad of [
        { schema: 'Robert"; DROP' },
        { tablePrefix: 'no spaces' },
        { relay: { pollIntervalMs: -1 } },
        { inboxRetentionMs: Number.NaN },
        { claimTimeoutMs: 0 },
      ]) {
        let thrown: unknown;
        try {
          createPostgresPersistence({ pool, ...bad });
        } catch (error) {
          thrown = error;
        }
        expect(config(thrown), JSON.stringify(bad)).toBe(true);
      }
    });

    it('migrates idempotently, from several processes at once, into its own schema and prefix', async () => {
      const schema = uniqueSchema();
      schemas.push(schema);
      const tables = postgresTables({ schema, tablePrefix: 'svc_' });
      const pools = Array.from({ length: 4 }, () => testPool(1));
      try {
        await Promise.all(pools.map((p) => migratePostgres(p, tables)));
        await migratePostgres(pool, tables);
      } finally {
        await Promise.all(pools.map((p) => p.end()));
      }
      const { rows } = await pool.query<{ table_name: string }>(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
        [schema],
      );
      expect(rows.map((row) => row.table_name)).toEqual(['svc_inbox', 'svc_migrations', 'svc_outbox', 'svc_sagas']);
      expect((await pool.query(`SELECT version FROM ${tables.migrations} ORDER BY version`)).rows).toEqual(
        Array.from({ length: POSTGRES_SCHEMA_VERSION }, (_, i) => ({ version: i + 1 })),
      );
    });

    it('refuses a database whose Mailroom tables are newer than the package, and an unreachable server, with typed errors', async () => {
      const schema = uniqueSchema();
      schemas.push(schema);
      const tables = postgresTables({ schema });
      await migratePostgres(pool, tables);
      await pool.query(`INSERT INTO ${tables.migrations} (version) VALUES ($1)`, [POSTGRES_SCHEMA_VERSION + 1]);
      await expect(migratePostgres(pool, tables)).rejects.toSatisfy((e) => isMailroomError(e, ErrorCodes.PERSISTENCE_SCHEMA) && /newer/.test(String(e)));
      const nowhere = new pg.Pool({ connectionString: 'postgres://mailroom:s3cret-password@127.0.0.1:1/test', connectionTimeoutMillis: 500 });
      const failure = await migratePostgres(nowhere, tables).catch((e: unknown) => e);
      await nowhere.end();
      expect(isMailroomError(failure, ErrorCodes.PERSISTENCE_SCHEMA)).toBe(true);
      expect(String((failure as Error).message)).not.toContain('s3cret-password');
    });

    it('serves one endpoint at a time and writes to the outbox only through a persistence', async () => {
      const schema = uniqueSchema();
      schemas.push(schema);
      const persistence = createPostgresPersistence<pg.PoolClient>({ pool, schema, relay: false });
      const transport = createMemoryTransport();
      await persistence.start({ endpoint: 'one', transport, logger: silentLogger });
      await persistence.start({ endpoint: 'one', transport, logger: silentLogger });
      await expect(persistence.start({ endpoint: 'two', transport, logger: silentLogger })).rejects.toSatisfy((e) =>
        isMailroomError(e, ErrorCodes.PERSISTENCE_STATE),
      );
      await persistence.stop();
      await persistence.start({ endpoint: 'two', transport, logger: silentLogger });
      await persistence.stop();
      await transport.close();
    });
  });
}

const silentLogger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
