import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { sleep, testEvent, waitUntil } from '@mailroom/conformance';
import { createEndpoint, createRelay, type Endpoint, type Transport } from '@mailroom/core';
import { createSqliteTransport } from '@mailroom/sqlite';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresPersistence, PostgresOutboxStore, postgresTables } from '../src/index.js';
import { bundleChild } from './child-bundle.js';
import { POSTGRES_URL, testPool, uniqueSchema } from './pg-fixture.js';

const KILLS = 100;
const PARALLEL_RELAYS = 3;

/** Counts every delivery the endpoint's transport hands out, duplicates included. */
function countingTransport(transport: Transport, onDelivery: () => void): Transport {
  return {
    ...transport,
    subscribe: (options, handler) =>
      transport.subscribe(options, (delivery) => {
        onDelivery();
        return handler(delivery);
      }),
  };
}

/**
 * The crash test of the issue: relay processes are killed with SIGKILL right after the broker
 * confirmed a batch and before it is marked sent, 100 times; the rows come back, are published
 * again, and the consumer's inbox drops the duplicates, so every side effect happens exactly once.
 */
export function describeCrashTest(): void {
  describe('relays killed with SIGKILL between broker confirm and mark-sent', () => {
    const schema = uniqueSchema();
    const tables = postgresTables({ schema });
    let dir: string;
    let brokerPath: string;
    let pool: pg.Pool;
    let child: { path: string; remove: () => void };
    const endpoints: Endpoint<pg.PoolClient>[] = [];
    const transports: Transport[] = [];

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'mailroom-pg-crash-'));
      brokerPath = join(dir, 'broker.db');
      pool = testPool(12);
      child = await bundleChild(join(import.meta.dirname, 'fixtures', 'crash-relay.ts'));
    });
    afterAll(async () => {
      await Promise.all(endpoints.map((endpoint) => endpoint.stop({ timeoutMs: 1000 })));
      await Promise.all(transports.map((transport) => transport.close()));
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await pool.end();
      child.remove();
      rmSync(dir, { recursive: true, force: true });
    });

    /** Starts one relay process; resolves with how it ended. */
    const runRelay = (killAfter: number) =>
      new Promise<NodeJS.Signals | number | null>((resolve, reject) => {
        const proc = spawn(process.execPath, [child.path, POSTGRES_URL, schema, brokerPath, String(killAfter)], {
          stdio: ['ignore', 'pipe', 'inherit'],
          env: { ...process.env, MAILROOM_LOG_LEVEL: 'silent' },
        });
        createInterface({ input: proc.stdout }).on('line', () => undefined);
        const timer = setTimeout(() => proc.kill('SIGTERM'), 20_000);
        proc.once('error', reject);
        proc.once('exit', (code, signal) => {
          clearTimeout(timer);
          resolve(signal ?? code);
        });
      });

    it(`${KILLS} kills: duplicates are delivered and dropped by the inbox; every side effect happens exactly once`, async () => {
      const Item = testEvent('CrashItem');
      const sqlite = createSqliteTransport({ path: brokerPath, pollIntervalMs: 50 });
      transports.push(sqlite);
      let deliveries = 0;
      const consumer = createEndpoint({
        name: 'crash-consumer',
        transport: countingTransport(sqlite, () => deliveries++),
        concurrency: 8,
        persistence: createPostgresPersistence<pg.PoolClient>({ pool, schema, relay: false }),
      });
      endpoints.push(consumer);
      consumer.on(Item, async (_message, ctx) => {
        await ctx.tx.query(`INSERT INTO ${schema}.effects (message_id) VALUES ($1)`, [ctx.envelope.id]);
      });
      const producer = createEndpoint({
        name: 'crash-producer',
        transport: sqlite,
        persistence: createPostgresPersistence<pg.PoolClient>({ pool, schema, relay: false }),
      });
      endpoints.push(producer);
      await producer.start();
      await pool.query(`CREATE TABLE ${schema}.effects (message_id text NOT NULL)`);
      await consumer.start();

      const produced = new Set<string>();
      const store = new PostgresOutboxStore({ pool, tables });
      const topUp = async () => {
        if ((await store.counts()).unsent >= 40) return;
        for (let t = 0; t < 5; t++) {
          await producer.transaction(async ({ publish }) => {
            for (let i = 0; i < 10; i++) produced.add((await publish(Item, { n: produced.size })).id);
          });
        }
      };

      let kills = 0;
      const childMs: number[] = [];
      const endings: (NodeJS.Signals | number | null)[] = [];
      await Promise.all(
        Array.from({ length: PARALLEL_RELAYS }, async () => {
          while (kills < KILLS) {
            await topUp();
            const started = performance.now();
            const ending = await runRelay(1 + Math.floor(Math.random() * 3));
            childMs.push(performance.now() - started);
            endings.push(ending);
            if (ending !== 'SIGKILL') throw new Error(`a relay process ended with ${String(ending)} instead of killing itself`);
            kills += 1;
          }
        }),
      );
      expect(kills).toBeGreaterThanOrEqual(KILLS);

      // A relay that is not killed drains what is left.
      const relay = createRelay({ store, transport: sqlite, pollIntervalMs: 20 });
      relay.start();
      try {
        await waitUntil(() => relay.stats.claims > 0, 5000);
        for (const deadline = Date.now() + 30_000; (await store.counts()).unsent > 0 && Date.now() < deadline; ) await sleep(50);
        const distinct = async () => Number((await pool.query(`SELECT count(DISTINCT message_id) AS n FROM ${schema}.effects`)).rows[0].n);
        for (const deadline = Date.now() + 30_000; (await distinct()) < produced.size && Date.now() < deadline; ) await sleep(50);
        await waitUntil(() => deliveries > 0, 1000);
        const queue = async () => (await sqlite.queues()).find((q) => q.endpoint === 'crash-consumer');
        for (const deadline = Date.now() + 30_000; ((await queue())?.depth ?? 1) > 0 && Date.now() < deadline; ) await sleep(50);
      } finally {
        await relay.stop();
      }

      const effects = (await pool.query<{ message_id: string; n: string }>(`SELECT message_id, count(*) AS n FROM ${schema}.effects GROUP BY message_id`)).rows;
      const repeated = effects.filter((row) => Number(row.n) !== 1);
      const inbox = Number((await pool.query(`SELECT count(*) AS n FROM ${tables.inbox} WHERE endpoint = 'crash-consumer'`)).rows[0].n);
      const duplicates = deliveries - produced.size;
      if (process.env.MAILROOM_TEST_REPORT) {
        console.info(
          `[crash] kills=${kills} messages=${produced.size} deliveries=${deliveries} duplicates=${duplicates} effects=${effects.length} meanChildMs=${Math.round(childMs.reduce((a, b) => a + b, 0) / childMs.length)}`,
        );
      }
      expect(await store.counts()).toMatchObject({ unsent: 0 });
      expect(repeated).toEqual([]);
      expect(new Set(effects.map((row) => row.message_id))).toEqual(produced);
      expect(inbox).toBe(produced.size);
      expect(duplicates, 'every kill left a confirmed batch unmarked, published again').toBeGreaterThanOrEqual(KILLS);
      expect(await sqlite.deadLetters.list({ endpoint: 'crash-consumer' })).toEqual([]);
    }, 150_000);
  });
}
