import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Services, serviceAvailable, sleep, uniqueName, waitUntil } from '@mailroom/conformance';
import { createEndpoint } from '@mailroom/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresTransport, type PostgresTransport } from '../src/index.js';
import { bundleChild } from './child-bundle.js';
import { PgWork } from './fixtures/pg-work.js';
import { POSTGRES_URL, testPool, uniqueSchema } from './pg-fixture.js';

const available = await serviceAvailable(Services.postgres);

/** Starts a bundled fixture; resolves once it printed "ready", calling `onLine` for every other line. */
function startChild(path: string, args: string[], children: ChildProcess[], onLine: (line: string) => void): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, MAILROOM_LOG_LEVEL: 'silent' } });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => reject(new Error(`child exited early (${String(signal ?? code)})`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (line === 'ready') resolve(child);
      else onLine(line);
    });
  });
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

describe.runIf(available)('PostgreSQL transport across processes, with SIGKILL', () => {
  const schema = uniqueSchema();
  const pool = testPool(2);
  const children: ChildProcess[] = [];
  let worker: { path: string; remove: () => void };
  let producer: { path: string; remove: () => void };
  let transport: PostgresTransport;

  beforeAll(async () => {
    [worker, producer] = await Promise.all([
      bundleChild(join(import.meta.dirname, 'fixtures', 'pg-worker.ts')),
      bundleChild(join(import.meta.dirname, 'fixtures', 'pg-producer.ts')),
    ]);
    transport = await createPostgresTransport({ connectionString: POSTGRES_URL, schema, poolSize: 4 });
  }, 60_000);
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await transport?.close();
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
    worker?.remove();
    producer?.remove();
  });

  const depthOf = async (endpoint: string) => (await transport.queues()).find((q) => q.endpoint === endpoint)?.depth ?? -1;

  it('loses nothing when a consumer process is killed mid-batch: its leases run out and another process handles them (then a restarted one joins)', async () => {
    const endpoint = uniqueName('pg-workers');
    const total = 6000;
    const handled = new Map<number, number>();
    let redelivered = 0;
    const byWorker = [0, 0, 0];
    const record = (index: number) => (line: string) => {
      const [, n, attempt] = line.split(' ').map(Number) as [number, number, number];
      handled.set(n, (handled.get(n) ?? 0) + 1);
      if (attempt >= 2) redelivered += 1;
      byWorker[index] = (byWorker[index] ?? 0) + 1;
    };
    const args = [POSTGRES_URL, schema, endpoint];
    const workers = await Promise.all([startChild(worker.path, args, children, record(0)), startChild(worker.path, args, children, record(1))]);
    const publisher = createEndpoint({ name: uniqueName('pg-mp-publisher'), transport });
    const started = Date.now();
    const publishing = (async () => {
      for (let n = 0; n < total; n += 100) await Promise.all(Array.from({ length: 100 }, (_, i) => publisher.publish(PgWork, { n: n + i })));
    })();
    await waitUntil(
      () => handled.size >= total / 3,
      60_000,
      () => `handled ${handled.size}`,
    );
    (workers[0] as ChildProcess).kill('SIGKILL');
    const killedAt = handled.size;
    await killed(workers[0] as ChildProcess);
    await startChild(worker.path, args, children, record(2));
    await publishing;
    await waitUntil(
      () => handled.size === total,
      60_000,
      () => `handled ${handled.size}/${total}`,
    );
    const duplicates = [...handled.values()].reduce((sum, count) => sum + count - 1, 0);
    console.info(
      `[postgres multi-process] ${total} messages, worker 0 killed (SIGKILL) after ${killedAt} handled; handled by worker0=${byWorker[0]} worker1=${byWorker[1]} restarted=${byWorker[2]}; ` +
        `lost=${total - handled.size} duplicates=${duplicates} redelivered=${redelivered} ${Date.now() - started} ms`,
    );
    expect(total - handled.size).toBe(0);
    expect(killedAt).toBeLessThan(total);
    expect(byWorker[2], 'the restarted worker took a share').toBeGreaterThan(0);
    expect(redelivered, 'the killed worker held leased messages: they came back with attempt 2').toBeGreaterThan(0);
    await waitUntil(
      async () => (await depthOf(endpoint)) === 0,
      20_000,
      () => 'the queue drains',
    );
    expect(await transport.deadLetters.list({ endpoint })).toEqual([]);
  }, 180_000);

  for (const mode of ['publish', 'direct'] as const) {
    it(`delivers every publish a producer process committed before it was killed (${mode === 'direct' ? 'inside endpoint.transaction, same database' : 'transport.publish'})`, async () => {
      const name = uniqueName(`pg-after-${mode}`);
      const consumer = createEndpoint({ name, transport, concurrency: 32 });
      const got = new Map<number, number>();
      consumer.on(PgWork, (message) => {
        got.set(message.n, (got.get(message.n) ?? 0) + 1);
      });
      await consumer.start();
      const committed = new Set<number>();
      const child = await startChild(producer.path, [POSTGRES_URL, schema, mode, '0'], children, (line) => {
        if (line.startsWith('committed ')) committed.add(Number(line.slice(10)));
      });
      await waitUntil(
        () => committed.size >= 1500,
        60_000,
        () => `committed ${committed.size}`,
      );
      child.kill('SIGKILL');
      await killed(child);
      const lost = () => [...committed].filter((n) => !got.has(n));
      await waitUntil(
        () => lost().length === 0,
        30_000,
        () => `${lost().length} committed publishes not delivered`,
      );
      await waitUntil(
        async () => (await depthOf(name)) === 0,
        20_000,
        () => 'the queue drains',
      );
      await sleep(300);
      const beyond = [...got.keys()].filter((n) => !committed.has(n)).length;
      console.info(
        `[postgres producer killed, ${mode}] committed=${committed.size} lost=${lost().length} delivered=${got.size} (of which ${beyond} committed in the instant before the kill, unreported) duplicates=${[...got.values()].filter((c) => c > 1).length}`,
      );
      expect(lost()).toEqual([]);
      expect([...got.values()].every((count) => count === 1)).toBe(true);
      await consumer.stop({ timeoutMs: 1000 });
    }, 120_000);
  }
});
