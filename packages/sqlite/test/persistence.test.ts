import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { sleep, testEvent, waitUntil } from '@mailroom/conformance';
import { createEndpoint, createMemoryTransport, createRelay, type Endpoint, ErrorCodes, isMailroomError, MemoryBroker, type Transport } from '@mailroom/core';
import type Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqlitePersistence, createSqliteTransport, migrateSqlite, SqliteOutboxStore, sqliteTables } from '../src/index.js';
import { openDatabase } from './persistence-fixture.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];
const endpoints: Endpoint<any>[] = [];
const transports: Transport[] = [];
const connections: Database.Database[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await Promise.all(endpoints.splice(0).map((endpoint) => endpoint.stop({ timeoutMs: 1000 })));
  await Promise.all(transports.splice(0).map((transport) => transport.close()));
  for (const connection of connections.splice(0)) connection.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-sqlite-outbox-'));
  dirs.push(dir);
  return dir;
}

function open(path: string): Database.Database {
  const db = openDatabase(path);
  connections.push(db);
  return db;
}

const message = (n: number) => ({
  route: { kind: 'event' as const, type: 'test.Leased' },
  headers: { 'ce-id': `m-${n}` },
  body: new TextEncoder().encode(JSON.stringify({ n })),
});

describe('SQLite outbox leases', () => {
  it('keeps the rows of a relay that died until its lease runs out; its late mark-sent then touches nothing', async () => {
    const db = open(join(tempDir(), 'service.db'));
    const tables = sqliteTables();
    migrateSqlite(db, tables);
    const store = new SqliteOutboxStore({ database: db, tables, leaseMs: 200 });
    const persistence = createSqlitePersistence({ database: db });
    await persistence.transaction((tx) => store.add(tx, [message(1), message(2)]));
    const dead = await store.claim(10);
    expect(dead.records).toHaveLength(2);
    const meanwhile = await store.claim(10);
    expect(meanwhile.records).toEqual([]);
    await sleep(250);
    const takeover = await store.claim(10);
    expect(takeover.records.map((r) => r.id)).toEqual(dead.records.map((r) => r.id));
    await dead.complete({ sent: dead.records.map((r) => r.id), failed: [] });
    expect(await store.counts()).toMatchObject({ unsent: 2, sent: 0 });
    await takeover.complete({ sent: takeover.records.map((r) => r.id), failed: [] });
    expect(await store.counts()).toEqual({ unsent: 0, sent: 2 });
  });
});

describe('SQLite outbox relays slower than their lease', () => {
  it('two relays on one file, each batch taking longer than the lease: no row leaves twice, each key reaches the broker in order', async () => {
    const path = join(tempDir(), 'service.db');
    const tables = sqliteTables();
    const writer = open(path);
    migrateSqlite(writer, tables);
    const persistence = createSqlitePersistence({ database: writer, relay: false });
    const keyed = (n: number) => ({ ...message(n), orderingKey: `k${n % 2}` });
    await persistence.transaction((tx) =>
      new SqliteOutboxStore({ database: writer, tables }).add(
        tx,
        Array.from({ length: 40 }, (_, n) => keyed(n)),
      ),
    );
    const published: number[] = [];
    const inner = createMemoryTransport();
    transports.push(inner);
    const slow: Transport = {
      ...inner,
      publish: async (outgoing) => {
        published.push((JSON.parse(new TextDecoder().decode(outgoing.body)) as { n: number }).n);
        await sleep(50);
      },
    };
    // Each relay claims all 40 rows; publishing them takes 1 s (two keys, 20 rows of 50 ms each), the lease 600 ms.
    const relays = [open(path), open(path)].map((db) =>
      createRelay({ store: new SqliteOutboxStore({ database: db, tables, leaseMs: 600 }), transport: slow, pollIntervalMs: 20 }),
    );
    for (const relay of relays) relay.start();
    try {
      await waitUntil(() => relays.reduce((sum, relay) => sum + relay.stats.sent, 0) >= 40, 20_000);
    } finally {
      await Promise.all(relays.map((relay) => relay.stop()));
    }
    for (const key of [0, 1]) {
      const order = published.filter((n) => n % 2 === key);
      expect(order).toEqual(Array.from({ length: 20 }, (_, i) => 2 * i + key));
    }
  });
});

describe('SQLite persistence', () => {
  it('two endpoint instances racing on one message id, 1,000 times: one effect each', async () => {
    const path = join(tempDir(), 'service.db');
    const Event = testEvent('Raced');
    const broker = new MemoryBroker();
    const setup = open(path);
    setup.exec('CREATE TABLE effects (message_id TEXT NOT NULL)');
    let settled = 0;
    for (let index = 0; index < 2; index++) {
      const inner = createMemoryTransport({ broker });
      transports.push(inner);
      const transport: Transport = {
        ...inner,
        subscribe: (options, handler) =>
          inner.subscribe(options, async (delivery) => {
            await handler(delivery);
            settled += 1;
          }),
      };
      const endpoint = createEndpoint({
        name: 'racers',
        transport,
        concurrency: 8,
        persistence: createSqlitePersistence({ database: open(path), relay: false }),
      });
      endpoint.on(Event, async (_message, ctx) => {
        ctx.tx.prepare('INSERT INTO effects (message_id) VALUES (?)').run(ctx.envelope.id);
      });
      endpoints.push(endpoint);
      await endpoint.start();
    }
    const producer = createEndpoint({ name: 'producer', transport: createMemoryTransport({ broker }) });
    for (let n = 0; n < 1000; n++) {
      const { id } = await producer.publish(Event, { n });
      await producer.publish(Event, { n }, { id });
    }
    await waitUntil(
      () => settled === 2000,
      30_000,
      () => `settled ${settled}/2000`,
    );
    const rows = setup.prepare('SELECT message_id, count(*) AS n FROM effects GROUP BY message_id').all() as { n: number }[];
    expect(rows).toHaveLength(1000);
    expect(rows.filter((row) => row.n !== 1)).toEqual([]);
  });

  it('relay processes sharing one database file: one killed with SIGKILL mid-run, every message handled exactly once', async () => {
    const dir = tempDir();
    const servicePath = join(dir, 'service.db');
    const brokerPath = join(dir, 'broker.db');
    const Event = testEvent('SharedFile');
    const sqlite = createSqliteTransport({ path: brokerPath, pollIntervalMs: 50 });
    transports.push(sqlite);
    const consumerDb = open(join(dir, 'consumer.db'));
    consumerDb.exec('CREATE TABLE effects (message_id TEXT NOT NULL)');
    const consumer = createEndpoint({
      name: 'shared-consumer',
      transport: sqlite,
      concurrency: 8,
      persistence: createSqlitePersistence({ database: consumerDb, relay: false }),
    });
    consumer.on(Event, async (_message, ctx) => {
      ctx.tx.prepare('INSERT INTO effects (message_id) VALUES (?)').run(ctx.envelope.id);
    });
    endpoints.push(consumer);
    await consumer.start();
    const producer = createEndpoint({
      name: 'shared-producer',
      transport: sqlite,
      persistence: createSqlitePersistence({ database: open(servicePath), relay: false }),
    });
    endpoints.push(producer);
    await producer.start();

    const published = [0, 0];
    const relays = await Promise.all(
      [0, 1].map(
        (index) =>
          new Promise<ChildProcess>((resolve, reject) => {
            const child = spawn(
              process.execPath,
              ['--conditions=source', '--import', 'tsx', join(import.meta.dirname, 'fixtures', 'outbox-relay.ts'), servicePath, brokerPath, '500'],
              { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, MAILROOM_LOG_LEVEL: 'silent' } },
            );
            children.push(child);
            child.once('error', reject);
            createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
              if (line === 'ready') resolve(child);
              else if (line.startsWith('published ')) published[index] = (published[index] ?? 0) + Number(line.slice(10));
            });
          }),
      ),
    );
    const ids = new Set<string>();
    let killed = false;
    for (let batch = 0; batch < 40; batch++) {
      await producer.transaction(async ({ publish }) => {
        for (let i = 0; i < 10; i++) ids.add((await publish(Event, { n: batch * 10 + i })).id);
      });
      if (!killed && (published[0] ?? 0) > 50) {
        relays[0]?.kill('SIGKILL');
        killed = true;
      }
      await sleep(5);
    }
    if (!killed) {
      await waitUntil(() => (published[0] ?? 0) > 0, 10_000);
      relays[0]?.kill('SIGKILL');
    }
    const handled = () => consumerDb.prepare('SELECT message_id, count(*) AS n FROM effects GROUP BY message_id').all() as { message_id: string; n: number }[];
    await waitUntil(
      () => handled().length === ids.size,
      20_000,
      () => `handled ${handled().length}/${ids.size}`,
    );
    // Rows the killed relay published but never marked sent are claimed again once their 500 ms
    // lease runs out; the survivor republishes them and the consumer's inbox drops the copies.
    const store = new SqliteOutboxStore({ database: open(servicePath), tables: sqliteTables() });
    let unsent = -1;
    await waitUntil(
      async () => (unsent = (await store.counts()).unsent) === 0,
      20_000,
      () => `${unsent} outbox rows still unsent`,
    );
    await sleep(300);
    const rows = handled();
    expect(new Set(rows.map((row) => row.message_id))).toEqual(ids);
    expect(rows.filter((row) => row.n !== 1)).toEqual([]);
    expect(published[1], 'the surviving relay took over').toBeGreaterThan(0);
  }, 60_000);

  it('fails fast on bad options and misuse, with typed errors', async () => {
    const db = open(join(tempDir(), 'service.db'));
    expect(() => createSqlitePersistence({} as never)).toThrow(expect.objectContaining({ code: ErrorCodes.PERSISTENCE_CONFIG }));
    expect(() => createSqlitePersistence({ database: db, tablePrefix: 'Bad-Prefix' })).toThrow(/tablePrefix/);
    expect(() => createSqlitePersistence({ database: db, relay: { batchSize: 0 } })).toThrow(/batchSize/);
    const persistence = createSqlitePersistence({ database: db, relay: false });
    await persistence.migrate();
    await persistence.migrate();
    await expect(persistence.addToOutbox(db, [message(1)])).rejects.toSatisfy((e) => isMailroomError(e, ErrorCodes.PERSISTENCE_NO_TRANSACTION));
    await expect(persistence.transaction(() => persistence.outbox.counts())).rejects.toSatisfy((e) => isMailroomError(e, ErrorCodes.PERSISTENCE_STATE));
    const other = open(join(tempDir(), 'other.db'));
    await expect(persistence.transaction(() => persistence.addToOutbox(other, [message(1)]))).rejects.toSatisfy((e) =>
      isMailroomError(e, ErrorCodes.PERSISTENCE_CONFIG),
    );
    db.prepare('INSERT INTO mailroom_migrations (version, applied_at) VALUES (99, 0)').run();
    await expect(persistence.migrate()).rejects.toSatisfy((e) => isMailroomError(e, ErrorCodes.PERSISTENCE_SCHEMA));
    const transport = createMemoryTransport();
    transports.push(transport);
    const shared = createSqlitePersistence({ database: open(join(tempDir(), 'shared.db')) });
    const a = createEndpoint({ name: 'a', transport, persistence: shared });
    endpoints.push(a);
    await a.start();
    const b = createEndpoint({ name: 'b', transport, persistence: shared });
    await expect(b.start()).rejects.toSatisfy((e) => isMailroomError(e, ErrorCodes.PERSISTENCE_STATE));
  });
});
