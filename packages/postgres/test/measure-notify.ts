// Measures the commit rate of 32 concurrent writers, each transaction inserting one outbox row,
// without NOTIFY, with pg_notify inside the transaction, and with NOTIFY right after the commit,
// while one connection LISTENs. Not a test and not part of `npm test`; run it by hand:
//   node --conditions=source --import tsx packages/postgres/test/measure-notify.ts [seconds per round] [cycles]
// The variants alternate round by round (so background load hits them alike); it prints every
// round and the median per variant.
import { testMessage } from '@mailroom/conformance';
import pg from 'pg';
import { migratePostgres, PostgresOutboxStore, postgresTables, withTransaction } from '../src/index.js';
import { POSTGRES_URL, testPool, uniqueSchema } from './pg-fixture.js';

type Variant = 'none' | 'in-transaction' | 'after-commit';
const WRITERS = 32;
const seconds = Number(process.argv[2] ?? 2);
const cycles = Number(process.argv[3] ?? 5);
const pool = testPool(WRITERS + 2);
const tables = postgresTables({ schema: uniqueSchema() });
await migratePostgres(pool, tables);
const store = new PostgresOutboxStore({ pool, tables });
const listener = new pg.Client({ connectionString: POSTGRES_URL });
await listener.connect();
let notifications = 0;
listener.on('notification', () => notifications++);
await listener.query('LISTEN mailroom_outbox');
const body = new TextEncoder().encode(JSON.stringify({ n: 1 }));

async function round(variant: Variant): Promise<number> {
  let commits = 0;
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      while (Date.now() < until) {
        await withTransaction(pool, async (client) => {
          await store.add(client, [testMessage('Measured', body)]);
          if (variant === 'in-transaction') await client.query("SELECT pg_notify('mailroom_outbox', '')");
        });
        if (variant === 'after-commit') await pool.query("SELECT pg_notify('mailroom_outbox', '')");
        commits += 1;
      }
    }),
  );
  return commits / seconds;
}

const results: Record<Variant, number[]> = { none: [], 'in-transaction': [], 'after-commit': [] };
try {
  for (let repeat = 0; repeat < cycles; repeat++) {
    for (const variant of Object.keys(results) as Variant[]) {
      await pool.query(`TRUNCATE ${tables.outbox}`);
      results[variant].push(await round(variant));
    }
  }
  for (const [variant, rates] of Object.entries(results)) {
    const median = [...rates].sort((a, b) => a - b)[Math.floor(rates.length / 2)] ?? 0;
    console.log(
      `${variant.padEnd(15)} median ${Math.round(median)} commits/s; rounds ${rates.map((r) => Math.round(r)).join(' / ')} (${WRITERS} writers, ${seconds} s rounds)`,
    );
  }
  console.log(`notifications received: ${notifications}`);
} finally {
  await listener.end();
  await pool.query(`DROP SCHEMA ${tables.schema} CASCADE`);
  await pool.end();
}
