import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeSagaStore, Services, serviceAvailable } from '@mailroom/conformance';
import { createSqliteTransport } from '@mailroom/sqlite';
import type pg from 'pg';
import { describe } from 'vitest';
import { createPostgresDatabase, createPostgresPersistence, migratePostgres, PostgresSagaStore, postgresTables } from '../src/index.js';
import { POSTGRES_URL, testPool, uniqueSchema } from './pg-fixture.js';

const available = await serviceAvailable(Services.postgres);

describe.runIf(available)('postgres sagas', () => {
  describeSagaStore<pg.PoolClient>({
    name: 'postgres',
    serializesWrites: false,
    create: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'mailroom-pg-sagas-'));
      const schema = uniqueSchema();
      const pool = testPool(12, schema);
      const tables = postgresTables({ schema });
      await migratePostgres(pool, tables);
      return {
        dir,
        database: createPostgresDatabase<pg.PoolClient>(pool, tables),
        sagas: new PostgresSagaStore(tables),
        persistence: (options = {}) => createPostgresPersistence<pg.PoolClient>({ pool, schema, relay: options.relay ?? { pollIntervalMs: 50 } }),
        spawnSagaChild: (names, brokerPath) =>
          spawn(
            process.execPath,
            [
              '--conditions=source',
              '--import',
              'tsx',
              join(import.meta.dirname, 'fixtures', 'saga-child.ts'),
              JSON.stringify(names),
              brokerPath,
              schema,
              POSTGRES_URL,
            ],
            { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, MAILROOM_LOG_LEVEL: 'silent' } },
          ),
        brokerTransport: (brokerPath) => createSqliteTransport({ path: brokerPath }),
        dispose: async () => {
          await pool.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()', [schema]);
          await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
          await pool.end();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  });
});
