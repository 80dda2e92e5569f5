import { testEvent, waitUntil } from '@mailroom/conformance';
import { createEndpoint, createMemoryTransport, type Endpoint, MemoryBroker, type Transport } from '@mailroom/core';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresPersistence, postgresTables } from '../src/index.js';
import { testPool, uniqueSchema } from './pg-fixture.js';

const MESSAGES = 1000;

/**
 * Two handlers racing on one message id, 1,000 times: every message is delivered twice at once to
 * two instances of one endpoint (as two processes would receive a duplicate), and the PostgreSQL
 * inbox lets exactly one of them apply its effect.
 */
export function describeRaceTest(): void {
  describe('two handlers racing on one message id', () => {
    const schema = uniqueSchema();
    const tables = postgresTables({ schema });
    let pool: pg.Pool;
    beforeAll(() => {
      pool = testPool(20);
    });
    const endpoints: Endpoint<any>[] = [];
    const transports: Transport[] = [];
    afterAll(async () => {
      await Promise.all(endpoints.map((endpoint) => endpoint.stop({ timeoutMs: 1000 })));
      await Promise.all(transports.map((transport) => transport.close()));
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await pool.end();
    });

    it(`${MESSAGES} times: one effect each`, async () => {
      const Event = testEvent('Raced');
      const broker = new MemoryBroker();
      const inFlight = new Map<string, number>();
      let settled = 0;
      let overlapping = 0;
      const instance = (index: number) => {
        const inner = createMemoryTransport({ broker });
        transports.push(inner);
        const transport: Transport = {
          ...inner,
          subscribe: (options, handler) =>
            inner.subscribe(options, async (delivery) => {
              const id = delivery.headers['ce-id'] as string;
              const concurrent = (inFlight.get(id) ?? 0) + 1;
              inFlight.set(id, concurrent);
              if (concurrent > 1) overlapping += 1;
              try {
                await handler(delivery);
              } finally {
                inFlight.set(id, (inFlight.get(id) ?? 1) - 1);
                settled += 1;
              }
            }),
        };
        const endpoint = createEndpoint({
          name: 'racers',
          transport,
          concurrency: 8,
          persistence: createPostgresPersistence<pg.PoolClient>({ pool, schema, relay: false }),
        });
        endpoint.on(Event, async (_message, ctx) => {
          await ctx.tx.query(`INSERT INTO ${schema}.effects (message_id, instance) VALUES ($1, $2)`, [ctx.envelope.id, index]);
        });
        endpoints.push(endpoint);
        return endpoint;
      };
      const [a, b] = [instance(0), instance(1)];
      await a.start();
      await pool.query(`CREATE TABLE ${schema}.effects (message_id text NOT NULL, instance integer NOT NULL)`);
      await b.start();
      const producer = createEndpoint({ name: 'race-producer', transport: createMemoryTransport({ broker }) });
      for (let n = 0; n < MESSAGES; n++) {
        const { id } = await producer.publish(Event, { n });
        await producer.publish(Event, { n }, { id });
      }
      await waitUntil(
        () => settled === 2 * MESSAGES,
        60_000,
        () => `settled ${settled}/${2 * MESSAGES}`,
      );
      const { rows } = await pool.query<{ message_id: string; n: string }>(`SELECT message_id, count(*) AS n FROM ${schema}.effects GROUP BY message_id`);
      const inbox = Number((await pool.query(`SELECT count(*) AS n FROM ${tables.inbox}`)).rows[0].n);
      if (process.env.MAILROOM_TEST_REPORT) console.info(`[race] messages=${MESSAGES} deliveries=${settled} overlapping=${overlapping} effects=${rows.length}`);
      expect(rows).toHaveLength(MESSAGES);
      expect(rows.filter((row) => Number(row.n) !== 1)).toEqual([]);
      expect(inbox).toBe(MESSAGES);
      expect(overlapping, 'the two copies were in flight at the same time').toBeGreaterThan(0);
      // a's transport (the memory transport under its wrapper) holds the dead letters of both instances' broker.
      expect(await transports[0]?.deadLetters.list({ endpoint: 'racers' })).toEqual([]);
    }, 90_000);
  });
}
