import { describeTransport, Services, serviceAvailable } from '@mailroom/conformance';
import { createPostgresTransport } from '../src/index.js';
import { postgresRawAccess } from '../src/testing/index.js';
import { POSTGRES_URL, testPool, uniqueSchema } from './pg-fixture.js';

const available = await serviceAvailable(Services.postgres);
const schema = uniqueSchema();

if (available) {
  describeTransport({
    name: 'postgres',
    connect: () => createPostgresTransport({ connectionString: POSTGRES_URL, schema, leaseMs: 2000, poolSize: 3 }),
    raw: postgresRawAccess({ connectionString: POSTGRES_URL, schema }),
    childProcess: { url: POSTGRES_URL, options: { schema, leaseMs: 2000, poolSize: 2 } },
    teardown: async () => {
      const pool = testPool(1);
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await pool.end();
    },
  });
}
