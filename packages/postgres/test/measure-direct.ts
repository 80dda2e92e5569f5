// Measures the same-database shortcut against the outbox and relay, both on the PostgreSQL
// transport: business transactions per second (8 writers, each transaction one INSERT into a
// business table plus one published event) and publish -> handler latency (one transaction every
// 20 ms, timed from the publish call inside the transaction, so the commit is included).
// Not a test and not part of `npm test`; run it by hand:
//   node --conditions=source --import tsx packages/postgres/test/measure-direct.ts [seconds per round] [cycles]
// The variants alternate round by round; it prints every round and the median per variant.
import { createEndpoint, defineEvent, type Endpoint } from '@mailroom/core';
import type pg from 'pg';
import { z } from 'zod';
import { createPostgresPersistence, createPostgresTransport } from '../src/index.js';
import { testPool, uniqueSchema } from './pg-fixture.js';

type Variant = 'direct' | 'outbox + relay';
const seconds = Number(process.argv[2] ?? 3);
const cycles = Number(process.argv[3] ?? 5);
const schema = uniqueSchema();
const pool = testPool(12);
const transport = await createPostgresTransport({ pool: pool as never, schema });
await pool.query(`CREATE TABLE ${schema}.orders (n integer NOT NULL)`);
const Placed = defineEvent('measure.OrderPlaced', { version: 1, schema: z.object({ n: z.number(), at: z.number() }) });
const latencies: number[] = [];
const consumer = createEndpoint({ name: 'measure-consumer', transport, concurrency: 32 });
consumer.on(Placed, (message) => {
  if (message.at > 0) latencies.push(performance.now() - message.at);
});
await consumer.start();
const producers = new Map<Variant, Endpoint<pg.PoolClient>>([
  ['direct', createEndpoint<pg.PoolClient>({ name: 'measure-direct', transport, persistence: createPostgresPersistence({ pool, schema, transport }) })],
  ['outbox + relay', createEndpoint<pg.PoolClient>({ name: 'measure-outbox', transport, persistence: createPostgresPersistence({ pool, schema }) })],
]);
for (const producer of producers.values()) await producer.start();

async function commit(producer: Endpoint<pg.PoolClient>, n: number, at: number): Promise<number> {
  await producer.transaction(async ({ tx, publish }) => {
    await tx.query(`INSERT INTO ${schema}.orders (n) VALUES ($1)`, [n]);
    await publish(Placed, { n, at: 0 });
  });
  const committed = performance.now();
  if (at > 0) {
    await producer.transaction(async ({ publish }) => {
      await publish(Placed, { n, at: performance.now() });
    });
  }
  return committed;
}

async function rate(producer: Endpoint<pg.PoolClient>): Promise<number> {
  let n = 0;
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (Date.now() < until) await commit(producer, n++, 0);
    }),
  );
  return n / seconds;
}

async function latency(producer: Endpoint<pg.PoolClient>): Promise<number[]> {
  latencies.length = 0;
  const count = Math.max(20, Math.round((seconds * 1000) / 20));
  for (let i = 0; i < count; i++) {
    await producer.transaction(async ({ publish }) => {
      await publish(Placed, { n: i, at: performance.now() });
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  const sorted = [...latencies].sort((a, b) => a - b);
  return [sorted[Math.floor(sorted.length / 2)] ?? Number.NaN, sorted[Math.floor(sorted.length * 0.99)] ?? Number.NaN];
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const results = new Map<Variant, { rates: number[]; p50: number[]; p99: number[] }>();
try {
  for (let cycle = 0; cycle < cycles; cycle++) {
    for (const [variant, producer] of producers) {
      const entry = results.get(variant) ?? { rates: [], p50: [], p99: [] };
      results.set(variant, entry);
      entry.rates.push(await rate(producer));
      const [p50, p99] = await latency(producer);
      entry.p50.push(p50 as number);
      entry.p99.push(p99 as number);
      console.log(
        `round ${cycle + 1} ${variant}: ${Math.round(entry.rates.at(-1) as number)} tx/s, publish -> handler p50 ${p50?.toFixed(2)} ms p99 ${p99?.toFixed(2)} ms`,
      );
    }
  }
  for (const [variant, entry] of results) {
    console.log(
      `${variant.padEnd(15)} median ${Math.round(median(entry.rates))} tx/s, publish -> handler p50 ${median(entry.p50).toFixed(2)} ms, p99 ${median(entry.p99).toFixed(2)} ms`,
    );
  }
} finally {
  for (const producer of producers.values()) await producer.stop();
  await consumer.stop();
  await transport.close();
  await pool.query(`DROP SCHEMA ${schema} CASCADE`);
  await pool.end();
}
