import { Services, serviceAvailable, sleep, uniqueName, waitUntil } from '@mailroom/conformance';
import { createEndpoint, createMemoryTransport, defineEvent, type Endpoint, isMailroomError, type StorePersistence } from '@mailroom/core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createPostgresPersistence, createPostgresTransport, PostgresErrorCodes, type PostgresTransport } from '../src/index.js';
import { POSTGRES_URL, testPool, uniqueSchema } from './pg-fixture.js';

const available = await serviceAvailable(Services.postgres);

/**
 * The same-database shortcut: the service's persistence and the transport share one database, so a
 * message written in a business transaction is inserted into the transport's queue in that same
 * transaction. No outbox row, no relay: the commit is the delivery.
 */
describe.runIf(available)('PostgreSQL persistence publishing straight into the transport of the same database', () => {
  const schema = uniqueSchema();
  const pool = testPool(8);
  let transport: PostgresTransport;
  const endpoints: Endpoint<pg.PoolClient>[] = [];
  const Ordered = defineEvent(uniqueName('Ordered'), { version: 1, schema: z.object({ n: z.number() }) });
  const Charged = defineEvent(uniqueName('Charged'), { version: 1, schema: z.object({ n: z.number() }) });
  const charged = new Map<number, number>();

  const persistences = new Map<Endpoint<pg.PoolClient>, StorePersistence<pg.PoolClient>>();
  const endpoint = (name: string) => {
    const persistence = createPostgresPersistence<pg.PoolClient>({ pool, schema, transport });
    const created = createEndpoint<pg.PoolClient>({ name, transport, persistence, recoverability: { immediateRetries: 3, delayedRetries: 0 } });
    endpoints.push(created);
    persistences.set(created, persistence);
    return created;
  };
  const queued = async (type: string) => Number((await pool.query(`SELECT count(*) AS n FROM ${schema}.mailroom_messages WHERE type = $1`, [type])).rows[0].n);

  beforeAll(async () => {
    transport = await createPostgresTransport({ pool: pool as never, schema, pollIntervalMs: 600_000 });
    await pool.query(`CREATE TABLE ${schema}.charges (n integer NOT NULL)`);
    const ledger = endpoint(uniqueName('ledger'));
    ledger.on(Charged, async (message) => {
      charged.set(message.n, (charged.get(message.n) ?? 0) + 1);
    });
    await ledger.start();
  });
  afterAll(async () => {
    await Promise.all(endpoints.map((e) => e.stop({ timeoutMs: 500 })));
    await transport.close();
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });

  it('delivers nothing from a handler transaction that rolls back, and exactly once from the one that commits, with no relay', async () => {
    const billing = endpoint(uniqueName('billing'));
    let attempts = 0;
    billing.on(Ordered, async (message, ctx) => {
      attempts += 1;
      await ctx.tx.query(`INSERT INTO ${schema}.charges (n) VALUES ($1)`, [message.n]);
      await ctx.publish(Charged, { n: message.n });
      if (attempts === 1) throw new Error('the first attempt fails after publishing: its transaction rolls back');
    });
    await billing.start();
    const producer = endpoint(uniqueName('shop'));
    await producer.start();
    await producer.transaction(async ({ publish }) => {
      await publish(Ordered, { n: 1 });
    });
    await waitUntil(
      () => charged.get(1) === 1,
      20_000,
      () => `attempts ${attempts}`,
    );
    await sleep(500);
    expect(attempts).toBe(2);
    expect(charged.get(1)).toBe(1);
    expect((await pool.query(`SELECT n FROM ${schema}.charges`)).rows).toEqual([{ n: 1 }]);
    expect(billing.hasPersistence).toBe(true);
    // Nothing went through an outbox row or a relay.
    expect(Number((await pool.query(`SELECT count(*) AS n FROM ${schema}.mailroom_outbox`)).rows[0].n)).toBe(0);
    for (const e of [billing, producer]) expect(persistences.get(e)?.relay).toBeUndefined();
  });

  it('writes the queue row inside endpoint.transaction(): invisible before the commit, gone with a rollback', async () => {
    const producer = endpoint(uniqueName('direct-tx'));
    await producer.start();
    await expect(
      producer.transaction(async ({ publish }) => {
        await publish(Charged, { n: 2 });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    await producer.transaction(async ({ publish }) => {
      await publish(Charged, { n: 3 });
    });
    await waitUntil(() => charged.get(3) !== undefined, 20_000);
    // A user transaction: the row exists inside it and for nobody else until COMMIT.
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const { id } = await producer.publish(Charged, { n: 4 }, { tx: client });
      const inside = Number((await client.query(`SELECT count(*) AS n FROM ${schema}.mailroom_messages WHERE message_id = $1`, [id])).rows[0].n);
      expect(inside).toBe(1);
      expect(await queued(id)).toBe(0);
      await client.query('ROLLBACK');
      await client.query('BEGIN');
      await producer.publish(Charged, { n: 5 }, { tx: client });
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    // After a transaction you committed yourself, wake() sends the NOTIFY (the consumers poll every 10 minutes here).
    persistences.get(producer)?.wake();
    await waitUntil(() => charged.get(5) === 1, 20_000);
    await sleep(500);
    expect(charged.has(2)).toBe(false);
    expect(charged.has(4)).toBe(false);
    expect(charged.get(3)).toBe(1);
    expect(charged.get(5)).toBe(1);
  });

  it('makes a transaction writing under an ordering key wait for the open one that wrote under it first', async () => {
    const producer = endpoint(uniqueName('keyed'));
    await producer.start();
    const events: string[] = [];
    const [first, second] = [await pool.connect(), await pool.connect()];
    try {
      await first.query('BEGIN');
      await second.query('BEGIN');
      await producer.publish(Charged, { n: 20 }, { tx: first, orderingKey: 'order-7' });
      const waiting = producer.publish(Charged, { n: 21 }, { tx: second, orderingKey: 'order-7' }).then(() => events.push('second wrote'));
      await sleep(300);
      events.push('first commits');
      await first.query('COMMIT');
      await waiting;
      await second.query('COMMIT');
    } finally {
      first.release();
      second.release();
    }
    expect(events).toEqual(['first commits', 'second wrote']);
    persistences.get(producer)?.wake();
    await waitUntil(() => charged.get(21) === 1 && charged.get(20) === 1, 20_000);
  });

  it('writes a scheduled message as a queue row visible at its deliver-at time, delivered then; cancelling deletes the row', async () => {
    const producer = endpoint(uniqueName('scheduler'));
    await producer.start();
    const start = Date.now();
    const [later, cancelled] = await producer.transaction(async ({ publish }) => [
      await publish(Charged, { n: 50 }, { delayMs: 1500 }),
      await publish(Charged, { n: 51 }, { delayMs: 60_000 }),
    ]);
    const rows = await pool.query<{ message_id: string; waiting: boolean }>(
      `SELECT message_id, visible_at > now() AS waiting FROM ${schema}.mailroom_messages WHERE message_id = ANY($1::text[])`,
      [[later.id, cancelled.id]],
    );
    expect(rows.rows.map((row) => row.waiting)).toEqual([true, true]);
    expect(Number((await pool.query(`SELECT count(*) AS n FROM ${schema}.mailroom_outbox`)).rows[0].n)).toBe(0);
    expect(await producer.cancelScheduled(cancelled.id)).toBe(true);
    expect((await pool.query(`SELECT 1 FROM ${schema}.mailroom_messages WHERE message_id = $1`, [cancelled.id])).rowCount).toBe(0);
    await waitUntil(
      () => charged.get(50) === 1,
      20_000,
      () => 'scheduled message not delivered',
    );
    expect(Date.now()).toBeGreaterThanOrEqual(start + 1500);
    expect(charged.get(51)).toBeUndefined();
  });

  it('refuses to start when the endpoint runs on another transport, or the pool reaches another database', async () => {
    const elsewhere = createEndpoint<pg.PoolClient>({
      name: uniqueName('elsewhere'),
      transport: createMemoryTransport(),
      persistence: createPostgresPersistence<pg.PoolClient>({ pool, schema, transport }),
    });
    await expect(elsewhere.start()).rejects.toSatisfy((e) => isMailroomError(e, PostgresErrorCodes.POSTGRES_NOT_SAME_DATABASE));
    const url = new URL(POSTGRES_URL);
    url.pathname = '/postgres';
    const otherDatabase = new pg.Pool({ connectionString: url.toString(), max: 1 });
    try {
      const misplaced = createEndpoint<pg.PoolClient>({
        name: uniqueName('misplaced'),
        transport,
        persistence: createPostgresPersistence<pg.PoolClient>({ pool: otherDatabase, schema, transport }),
      });
      await expect(misplaced.start()).rejects.toSatisfy(
        (e) => isMailroomError(e, PostgresErrorCodes.POSTGRES_NOT_SAME_DATABASE) && /does not reach/.test(String(e)),
      );
    } finally {
      await otherDatabase.end();
    }
    expect(() => createPostgresPersistence({ pool, transport, relay: { batchSize: 5 } })).toThrow(/relay settings do not apply/);
    expect(() => createPostgresPersistence({ pool, transport: createMemoryTransport() as never })).toThrow(/must be a PostgreSQL transport/);
  });
});
