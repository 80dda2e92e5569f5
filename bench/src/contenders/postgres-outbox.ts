import { createEndpoint, createMemoryTransport, type Endpoint, type Transport } from '@mailroom/core';
import { createPostgresPersistence } from '@mailroom/postgres';
import pg from 'pg';
import { BenchEvent, benchMessage } from '../bench-message.js';
import type { OutboxFixture } from './outbox-fixture.js';
import { createBenchDatabase, dropBenchDatabase } from './postgres-server.js';

const INSERT = 'INSERT INTO bench_orders (customer, total) VALUES ($1, $2)';

/** Creates database `database` (dropped again by `close`), the business table and Mailroom's tables; `poolSize` connections. */
export async function postgresOutbox(database: string, poolSize: number): Promise<OutboxFixture> {
  const pool = new pg.Pool({ connectionString: await createBenchDatabase(database), max: poolSize });
  pool.on('error', () => undefined);
  await pool.query(
    'CREATE TABLE bench_orders (id bigserial PRIMARY KEY, customer text NOT NULL, total numeric(12, 2) NOT NULL, created_at timestamptz NOT NULL DEFAULT now())',
  );
  const persistence = createPostgresPersistence<pg.PoolClient>({ pool, relay: false });
  const endpoint: Endpoint<pg.PoolClient> = createEndpoint({ name: 'bench-orders', transport: createMemoryTransport(), persistence });
  await endpoint.start();
  const relaying: Endpoint<pg.PoolClient>[] = [];
  return {
    name: 'postgres',
    outbox: persistence.outbox,
    async bareInsert(seq) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(INSERT, [`customer-${seq}`, seq % 1000]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    async autocommitInsert(seq) {
      await pool.query(INSERT, [`customer-${seq}`, seq % 1000]);
    },
    async insertWithOutbox(seq) {
      await endpoint.transaction(async ({ tx, publish }) => {
        await tx.query(INSERT, [`customer-${seq}`, seq % 1000]);
        await publish(BenchEvent, benchMessage(seq));
      });
    },
    async prefillOutbox(count, perTransaction) {
      for (let start = 0; start < count; start += perTransaction) {
        await endpoint.transaction(async ({ publish }) => {
          for (let seq = start; seq < Math.min(count, start + perTransaction); seq++) await publish(BenchEvent, benchMessage(seq));
        });
      }
    },
    async clear() {
      await pool.query('TRUNCATE bench_orders, mailroom_outbox');
    },
    relayingEndpoint(name: string, transport: Transport) {
      const relayed: Endpoint<pg.PoolClient> = createEndpoint({
        name,
        transport,
        persistence: createPostgresPersistence<pg.PoolClient>({ pool, tablePrefix: 'latency_' }),
      });
      relaying.push(relayed);
      return relayed;
    },
    async version() {
      return String((await pool.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version);
    },
    async close() {
      for (const e of relaying) await e.stop();
      await endpoint.stop();
      await pool.end();
      await dropBenchDatabase(database);
    },
  };
}
