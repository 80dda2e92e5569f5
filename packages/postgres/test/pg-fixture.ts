import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PersistenceFixture, type StoreFixture, type StoreSet, uniqueName } from '@mailroom/conformance';
import { createSqliteTransport } from '@mailroom/sqlite';
import pg from 'pg';
import {
  createPostgresDatabase,
  createPostgresPersistence,
  migratePostgres,
  PostgresInboxStore,
  PostgresOutboxStore,
  type PostgresTables,
  postgresTables,
} from '../src/index.js';
import { bundleChild } from './child-bundle.js';

/** The database the tests use; trust auth on the developer machine. */
export const POSTGRES_URL = process.env.MAILROOM_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A pool on the test database that ignores errors of idle clients (a restarted server), as pg asks users to do. */
export function testPool(max = 10, applicationName = 'mailroom-test'): pg.Pool {
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max, application_name: applicationName });
  pool.on('error', () => undefined);
  return pool;
}

/** A unique schema name for one test. */
export function uniqueSchema(): string {
  return uniqueName('mr').replace('-', '_');
}

function storeSet(pool: pg.Pool, tables: PostgresTables): StoreSet<pg.PoolClient> {
  return {
    database: createPostgresDatabase<pg.PoolClient>(pool, tables),
    outbox: new PostgresOutboxStore({ pool, tables }),
    inbox: new PostgresInboxStore(pool, tables),
  };
}

/** A migrated, empty set of stores in a fresh schema, with a `business` table; dispose drops the schema. */
export async function createPostgresFixture(): Promise<StoreFixture<pg.PoolClient>> {
  const schema = uniqueSchema();
  const pool = testPool(10, schema);
  const others: pg.Pool[] = [];
  const tables = postgresTables({ schema });
  await migratePostgres(pool, tables);
  await pool.query(`CREATE TABLE ${tables.schema}.business (key text NOT NULL)`);
  return {
    ...storeSet(pool, tables),
    business: {
      insert: async (tx, key) => {
        await tx.query(`INSERT INTO ${tables.schema}.business (key) VALUES ($1)`, [key]);
      },
      count: async (key) => Number((await pool.query(`SELECT count(*) AS n FROM ${tables.schema}.business WHERE key = $1`, [key])).rows[0].n),
    },
    another: async () => {
      const other = testPool(4, schema);
      others.push(other);
      return storeSet(other, tables);
    },
    dispose: async () => {
      // A failed test may leave a claim open: end those sessions so the pools close and the schema drops at once.
      await pool.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()', [schema]);
      await Promise.all(others.map((other) => other.end()));
      await pool.query(`DROP SCHEMA ${tables.schema} CASCADE`);
      await pool.end();
    },
  };
}

/**
 * A migrated, empty schema with an `effects` table, for the persistence suite; its relay processes
 * run fixtures/crash-relay.ts, bundled on first use. Dispose drops the schema and the bundle.
 */
export async function createPostgresPersistenceFixture(): Promise<PersistenceFixture<pg.PoolClient>> {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-pg-persistence-'));
  const schema = uniqueSchema();
  const pool = testPool(20, schema);
  const tables = postgresTables({ schema });
  await migratePostgres(pool, tables);
  await pool.query(`CREATE TABLE ${schema}.effects (message_id text NOT NULL)`);
  let child: Promise<{ path: string; remove: () => void }> | undefined;
  return {
    dir,
    outbox: new PostgresOutboxStore({ pool, tables }),
    leasedOutbox: (leaseMs) => new PostgresOutboxStore({ pool, tables, claimTimeoutMs: leaseMs }),
    persistence: () => createPostgresPersistence<pg.PoolClient>({ pool, schema, relay: false }),
    effects: {
      insert: async (tx, messageId) => {
        await tx.query(`INSERT INTO ${schema}.effects (message_id) VALUES ($1)`, [messageId]);
      },
      counts: async () =>
        (await pool.query<{ message_id: string; n: string }>(`SELECT message_id, count(*) AS n FROM ${schema}.effects GROUP BY message_id`)).rows.map(
          (row) => ({
            messageId: row.message_id,
            n: Number(row.n),
          }),
        ),
    },
    inboxRecords: async (endpoint) => Number((await pool.query(`SELECT count(*) AS n FROM ${tables.inbox} WHERE endpoint = $1`, [endpoint])).rows[0].n),
    brokerTransport: (brokerPath) => createSqliteTransport({ path: brokerPath, pollIntervalMs: 50 }),
    relayProcess: async (brokerPath, killAfterBatches) => {
      child ??= bundleChild(join(import.meta.dirname, 'fixtures', 'crash-relay.ts'));
      return [(await child).path, POSTGRES_URL, schema, brokerPath, String(killAfterBatches)];
    },
    dispose: async () => {
      await pool.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()', [schema]);
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await pool.end();
      if (child) (await child).remove();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
