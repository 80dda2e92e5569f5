import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { Services, serviceAvailable, sleep, testEvent } from '@mailroom/conformance';
import { createEndpoint, createMemoryTransport, type Endpoint, MemoryBroker, type Transport } from '@mailroom/core';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresPersistence, PostgresOutboxStore, postgresTables } from '../src/index.js';
import { POSTGRES_URL, testPool, uniqueSchema } from './pg-fixture.js';

const run = promisify(execFile);
const available = await serviceAvailable(Services.postgres);

// Disruptive (it restarts the shared server): Vitest runs it after every other file, alone.
describe.runIf(available)('postgres', () => {
  describeRestartTest();
});

function clusterVersion(): string {
  return readdirSync('/etc/postgresql')[0] ?? '';
}

async function accepting(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Waits until PostgreSQL accepts connections; starts it first when it is down. */
async function ensurePostgresUp(): Promise<void> {
  if (await accepting()) return;
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', clusterVersion(), 'main', 'start']).catch(() => undefined);
  for (const deadline = Date.now() + 60_000; !(await accepting()); await sleep(100)) {
    if (Date.now() > deadline) throw new Error('PostgreSQL did not come back within 60 s');
  }
}

/** Restarts the local cluster (short outage) and waits until it accepts connections again. */
async function restartPostgres(): Promise<number> {
  const started = performance.now();
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', clusterVersion(), 'main', 'restart']);
  await ensurePostgresUp();
  return performance.now() - started;
}

/** Whether this machine runs the PostgreSQL cluster itself (pg_ctlcluster present), so the test may restart it. */
function canRestartPostgres(): boolean {
  try {
    return clusterVersion() !== '';
  } catch {
    return false;
  }
}

/**
 * PostgreSQL restarted while writers commit (some roll back on purpose), the relay publishes and a
 * consumer handles: the relay recovers by itself, nothing rolled back is ever delivered, every
 * committed message is handled exactly once, and no unsent row is left.
 */
function describeRestartTest(): void {
  describe.runIf(canRestartPostgres())('PostgreSQL restarted mid-run', () => {
    const schema = uniqueSchema();
    const tables = postgresTables({ schema });
    let pool: pg.Pool | undefined;
    const endpoints: Endpoint<any>[] = [];
    const transports: Transport[] = [];
    afterAll(async () => {
      await ensurePostgresUp();
      await Promise.all(endpoints.map((endpoint) => endpoint.stop({ timeoutMs: 1000 })));
      await Promise.all(transports.map((transport) => transport.close()));
      await pool?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await pool?.end();
    });

    it('the relay recovers; rolled-back transactions emit 0 messages; every committed one is handled once; 0 unsent rows at the end', async () => {
      pool = testPool(12);
      const Event = testEvent('Restarted');
      const broker = new MemoryBroker();
      const connect = () => {
        const transport = createMemoryTransport({ broker });
        transports.push(transport);
        return transport;
      };
      const producerPersistence = createPostgresPersistence<pg.PoolClient>({ pool, schema, relay: { pollIntervalMs: 50, maxErrorBackoffMs: 300 } });
      const producer = createEndpoint({ name: 'restart-producer', transport: connect(), persistence: producerPersistence });
      const consumerTransport = connect();
      const consumer = createEndpoint({
        name: 'restart-consumer',
        transport: consumerTransport,
        concurrency: 4,
        recoverability: { immediateRetries: 3, delayedRetries: 10, initialDelayMs: 100, factor: 1.5, jitter: 0 },
        persistence: createPostgresPersistence<pg.PoolClient>({ pool, schema, relay: false }),
      });
      endpoints.push(producer, consumer);
      consumer.on(Event, async (_message, ctx) => {
        await ctx.tx.query(`INSERT INTO ${schema}.effects (message_id) VALUES ($1)`, [ctx.envelope.id]);
      });
      await producer.start();
      await pool.query(`CREATE TABLE ${schema}.effects (message_id text NOT NULL)`);
      await consumer.start();

      const committed = new Set<string>();
      const rolledBack = new Set<string>();
      const inDoubt = new Set<string>();
      let outageFailures = 0;
      let writing = true;
      let n = 0;
      const writer = async () => {
        while (writing) {
          const ids: string[] = [];
          const mine = n++;
          try {
            await producer.transaction(async ({ tx, publish }) => {
              await tx.query(`INSERT INTO ${schema}.effects (message_id) VALUES ('business-' || $1)`, [mine]);
              ids.push((await publish(Event, { n: mine })).id);
              if (mine % 5 === 0) throw new RollBack();
            });
            for (const id of ids) committed.add(id);
          } catch (error) {
            if (error instanceof RollBack) {
              for (const id of ids) rolledBack.add(id);
            } else {
              outageFailures += 1;
              for (const id of ids) inDoubt.add(id);
              await sleep(50);
            }
          }
        }
      };
      const writers = Array.from({ length: 4 }, writer);
      await sleep(700);
      const outageMs = await restartPostgres();
      await sleep(700);
      writing = false;
      await Promise.all(writers);

      const store = new PostgresOutboxStore({ pool, tables });
      const handled = async () =>
        (
          await pool?.query<{ message_id: string; n: string }>(
            `SELECT message_id, count(*) AS n FROM ${schema}.effects WHERE message_id NOT LIKE 'business-%' GROUP BY message_id`,
          )
        )?.rows ?? [];
      for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(100)) {
        const [counts, rows] = [await store.counts(), await handled()];
        if (counts.unsent === 0 && [...committed].every((id) => rows.some((row) => row.message_id === id))) break;
      }
      await sleep(300);
      const rows = await handled();
      const delivered = new Set(rows.map((row) => row.message_id));
      if (process.env.MAILROOM_TEST_REPORT) {
        console.info(
          `[restart] outageMs=${Math.round(outageMs)} committed=${committed.size} rolledBack=${rolledBack.size} inDoubt=${inDoubt.size} writerFailures=${outageFailures} delivered=${delivered.size} relayErrors=${producerPersistence.relay?.stats.errors}`,
        );
      }
      expect(outageFailures, 'the restart happened while writers were committing').toBeGreaterThan(0);
      expect(await store.counts()).toMatchObject({ unsent: 0 });
      expect([...rolledBack].filter((id) => delivered.has(id))).toEqual([]);
      expect([...committed].filter((id) => !delivered.has(id))).toEqual([]);
      expect([...delivered].filter((id) => !committed.has(id) && !inDoubt.has(id))).toEqual([]);
      expect(rows.filter((row) => Number(row.n) !== 1)).toEqual([]);
      expect(await consumerTransport.deadLetters.list({ endpoint: 'restart-consumer' })).toEqual([]);
    }, 90_000);
  });
}

class RollBack extends Error {}
