import { randomBytes } from 'node:crypto';
import type { OperationStoreFixture } from '@mailroom/conformance';
import pg from 'pg';
import { createPostgresOperationStore } from '../postgres-operation-store.js';

/**
 * A fresh, unique schema on the PostgreSQL database at `connectionString` for operation store
 * tests: each `store()` opens a pool of its own (at most `poolSize` connections, named after the
 * schema in `application_name`, idle-client errors ignored as pg asks), as another process would;
 * `dispose()` drops the schema through the first pool and ends them all. What
 * `describeOperationStore` takes as `create`. The schema itself is created by the stores' `migrate()`.
 */
export async function postgresOperationStoreFixture(connectionString: string, poolSize = 4): Promise<OperationStoreFixture> {
  const schema = `mrops_${randomBytes(5).toString('hex')}`;
  const pools: pg.Pool[] = [];
  return {
    async store() {
      const pool = new pg.Pool({ connectionString, max: poolSize, application_name: schema });
      pool.on('error', () => undefined);
      pools.push(pool);
      return createPostgresOperationStore({ pool, schema });
    },
    async dispose() {
      try {
        await pools[0]?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await Promise.all(pools.map((pool) => pool.end()));
      }
    },
  };
}
