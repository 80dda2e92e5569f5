import { spawn } from 'node:child_process';
import {
  createEndpoint,
  createMemoryTransport,
  createRelay,
  type Endpoint,
  HeaderNames,
  MemoryBroker,
  type OutboxMessage,
  type OutboxStore,
  type Persistence,
  type Transport,
} from '@mailroom/core';
import { afterEach, describe, expect, it } from 'vitest';
import { sleep, uniqueName, waitUntil } from './helpers.js';
import { testEvent } from './outbox-suite.js';
import { testMessage } from './test-message.js';

/** What the persistence suite needs of a database under test: a fresh, migrated one per test. */
export interface PersistenceFixture<Tx> {
  /** The outbox of this database (the default tables `persistence()` uses), for counts and a relay in this process. */
  readonly outbox: OutboxStore<Tx>;
  /**
   * A new outbox store on this database's default tables through a connection of its own, whose
   * claims expire `leaseMs` after they were made (SQLite's `leaseMs`, PostgreSQL's `claimTimeoutMs`).
   */
  leasedOutbox(leaseMs: number): OutboxStore<Tx>;
  /** A new persistence on this database through connections of its own, as another process opens it; relay off. */
  persistence(): Persistence<Tx>;
  /** An `effects` table: `insert` adds a row for `messageId` inside `tx`; `counts` counts committed rows per message id. */
  readonly effects: { insert(tx: Tx, messageId: string): Promise<void>; counts(): Promise<{ messageId: string; n: number }[]> };
  /** How many inbox records `endpoint` has committed. */
  inboxRecords(endpoint: string): Promise<number>;
  /** Connects to the SQLite broker at `brokerPath` (the transport shared with the relay processes). */
  brokerTransport(brokerPath: string): Transport;
  /**
   * The arguments of `node` that start a relay process: it relays this database's outbox into the
   * SQLite broker at `brokerPath` in batches of 5, polling every 20 ms, and kills itself with
   * SIGKILL right after the broker confirmed its `killAfterBatches`-th batch, before that batch is marked sent. Its claims must come back within a few seconds of its death.
   */
  relayProcess(brokerPath: string, killAfterBatches: number): Promise<string[]>;
  /** A directory for the broker file, removed by `dispose`. */
  readonly dir: string;
  /** Closes every connection this fixture opened and drops its tables. */
  dispose(): Promise<void>;
}

/** Options of {@link describePersistence}. */
export interface PersistenceSuiteOptions<Tx> {
  /** Shown in test names. */
  name: string;
  /** Creates a fresh fixture; called at the start of every test. */
  create: () => Promise<PersistenceFixture<Tx>>;
  /**
   * True when the late `complete` of an expired claim rejects, because the database ended the
   * claim's session (PostgreSQL); false when it resolves (SQLite). Either way it marks nothing sent.
   */
  expiredCompleteRejects: boolean;
  /** Message ids the race test delivers twice at once. Default 1,000. */
  races?: number;
  /** Relay processes the crash test kills. Default 100. */
  kills?: number;
  /** Relay processes running at once in the crash test. Default 3. */
  parallelRelays?: number;
}

/** Counts and observes every delivery a transport hands out, duplicates included. */
function observedTransport(transport: Transport, around: (id: string, handle: () => Promise<void>) => Promise<void>): Transport {
  return {
    ...transport,
    subscribe: (options, handler) =>
      transport.subscribe(options, (delivery) =>
        around(delivery.headers[HeaderNames.id] as string, async () => {
          await handler(delivery);
        }),
      ),
  };
}

const leased = (type: string, n: number, orderingKey?: string): OutboxMessage => ({
  ...testMessage(type, new TextEncoder().encode(JSON.stringify({ n }))),
  ...(orderingKey === undefined ? {} : { orderingKey }),
});

/**
 * Registers the persistence suite (vitest): the transactional outbox and the idempotent inbox of a
 * database under duplicate deliveries and crashes, across processes. Two endpoint instances race on
 * one message id `races` times and exactly one applies its effect each time; relay processes killed
 * with SIGKILL `kills` times between the broker's confirm and mark-sent lose nothing and duplicate
 * no effect, because the rows come back and the consumer's inbox drops the copies. A relay that
 * died keeps its rows until its claim expires, and its late mark-sent then marks nothing; relays
 * whose batches outlast their claims never send a row twice and keep each key's order. Every outbox and
 * inbox store must pass it.
 */
export function describePersistence<Tx>(options: PersistenceSuiteOptions<Tx>): void {
  const races = options.races ?? 1000;
  const kills = options.kills ?? 100;
  const parallelRelays = options.parallelRelays ?? 3;
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const fixture = async () => {
    const f = await options.create();
    cleanups.push(() => f.dispose());
    return f;
  };
  const started = async (endpoint: Endpoint<Tx>) => {
    cleanups.push(() => endpoint.stop({ timeoutMs: 1000 }));
    await endpoint.start();
    return endpoint;
  };

  describe(`persistence under races and crashes: ${options.name}`, () => {
    it('keeps the rows of a relay that died until its lease runs out; its late mark-sent then touches nothing', async () => {
      const f = await fixture();
      const type = uniqueName('Leased');
      const store = f.leasedOutbox(200);
      const writer = f.persistence();
      await writer.transaction((tx) => writer.addToOutbox(tx, [leased(type, 1), leased(type, 2)]));
      const dead = await store.claim(10);
      expect(dead.records).toHaveLength(2);
      const meanwhile = await store.claim(10);
      expect(meanwhile.records).toEqual([]);
      await sleep(250);
      const takeover = await store.claim(10);
      expect(takeover.records.map((r) => r.id)).toEqual(dead.records.map((r) => r.id));
      const late = dead.complete({ sent: dead.records.map((r) => r.id), failed: [] });
      if (options.expiredCompleteRejects) await expect(late).rejects.toThrow();
      else await late;
      expect(await store.counts()).toMatchObject({ unsent: 2, sent: 0 });
      await takeover.complete({ sent: takeover.records.map((r) => r.id), failed: [] });
      expect(await store.counts()).toEqual({ unsent: 0, sent: 2 });
    });

    it('two relays on one database, each batch taking longer than the lease: no row leaves twice, each key reaches the broker in order', async () => {
      const f = await fixture();
      const type = uniqueName('Slow');
      const writer = f.persistence();
      await writer.transaction((tx) =>
        writer.addToOutbox(
          tx,
          Array.from({ length: 40 }, (_, n) => leased(type, n, `k${n % 2}`)),
        ),
      );
      const published: number[] = [];
      const inner = createMemoryTransport();
      cleanups.push(() => inner.close());
      const slow: Transport = {
        ...inner,
        publish: async (outgoing) => {
          published.push((JSON.parse(new TextDecoder().decode(outgoing.body)) as { n: number }).n);
          await sleep(50);
        },
      };
      // Each relay claims all 40 rows; publishing them takes 1 s (two keys, 20 rows of 50 ms each), the lease 600 ms.
      const relays = [f.leasedOutbox(600), f.leasedOutbox(600)].map((store) => createRelay({ store, transport: slow, pollIntervalMs: 20 }));
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

    it(`two endpoint instances racing on one message id, ${races.toLocaleString('en-US')} times: one effect each`, async () => {
      const f = await fixture();
      const Event = testEvent('Raced');
      const broker = new MemoryBroker();
      const inFlight = new Map<string, number>();
      let settled = 0;
      let overlapping = 0;
      const transports: Transport[] = [];
      for (let index = 0; index < 2; index++) {
        const inner = createMemoryTransport({ broker });
        transports.push(inner);
        cleanups.push(() => inner.close());
        const transport = observedTransport(inner, async (id, handle) => {
          const concurrent = (inFlight.get(id) ?? 0) + 1;
          inFlight.set(id, concurrent);
          if (concurrent > 1) overlapping += 1;
          try {
            await handle();
          } finally {
            inFlight.set(id, (inFlight.get(id) ?? 1) - 1);
            settled += 1;
          }
        });
        const endpoint = createEndpoint({ name: 'racers', transport, concurrency: 8, persistence: f.persistence() });
        endpoint.on(Event, async (_message, ctx) => {
          await f.effects.insert(ctx.tx, ctx.envelope.id);
        });
        await started(endpoint);
      }
      const producer = createEndpoint({ name: 'race-producer', transport: createMemoryTransport({ broker }) });
      for (let n = 0; n < races; n++) {
        const { id } = await producer.publish(Event, { n });
        await producer.publish(Event, { n }, { id });
      }
      await waitUntil(
        () => settled === 2 * races,
        60_000,
        () => `settled ${settled}/${2 * races}`,
      );
      const rows = await f.effects.counts();
      const inbox = await f.inboxRecords('racers');
      if (process.env.MAILROOM_TEST_REPORT)
        console.info(`[race ${options.name}] messages=${races} deliveries=${settled} overlapping=${overlapping} effects=${rows.length}`);
      expect(rows).toHaveLength(races);
      expect(rows.filter((row) => row.n !== 1)).toEqual([]);
      expect(inbox).toBe(races);
      expect(overlapping, 'the two copies were in flight at the same time').toBeGreaterThan(0);
      // The memory broker keeps the dead letters of both instances; either transport lists them.
      expect(await transports[0]?.deadLetters.list({ endpoint: 'racers' })).toEqual([]);
    }, 90_000);

    it(`relay processes killed with SIGKILL between broker confirm and mark-sent, ${kills} times, ${parallelRelays} at once: every side effect happens exactly once`, async () => {
      const f = await fixture();
      const brokerPath = `${f.dir}/broker.db`;
      const Item = testEvent('CrashItem');
      const broker = f.brokerTransport(brokerPath);
      cleanups.push(() => broker.close());
      let deliveries = 0;
      const consumer = createEndpoint({
        name: 'crash-consumer',
        transport: observedTransport(broker, (_id, handle) => {
          deliveries += 1;
          return handle();
        }),
        concurrency: 8,
        persistence: f.persistence(),
      });
      consumer.on(Item, async (_message, ctx) => {
        await f.effects.insert(ctx.tx, ctx.envelope.id);
      });
      const producer = await started(createEndpoint({ name: 'crash-producer', transport: broker, persistence: f.persistence() }));
      await started(consumer);

      const produced = new Set<string>();
      const topUp = async () => {
        if ((await f.outbox.counts()).unsent >= 40) return;
        for (let t = 0; t < 5; t++) {
          await producer.transaction(async ({ publish }) => {
            for (let i = 0; i < 10; i++) produced.add((await publish(Item, { n: produced.size })).id);
          });
        }
      };
      /** Runs one relay process to its end; resolves with how it ended. */
      const runRelay = async (killAfter: number) => {
        const args = await f.relayProcess(brokerPath, killAfter);
        return new Promise<NodeJS.Signals | number | null>((resolve, reject) => {
          const proc = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, MAILROOM_LOG_LEVEL: 'silent' } });
          const timer = setTimeout(() => proc.kill('SIGTERM'), 20_000);
          proc.once('error', reject);
          proc.once('exit', (code, signal) => {
            clearTimeout(timer);
            resolve(signal ?? code);
          });
        });
      };

      let launched = 0;
      let killed = 0;
      const childMs: number[] = [];
      await Promise.all(
        Array.from({ length: parallelRelays }, async () => {
          while (launched < kills) {
            launched += 1;
            await topUp();
            const start = performance.now();
            const ending = await runRelay(1 + Math.floor(Math.random() * 3));
            childMs.push(performance.now() - start);
            if (ending !== 'SIGKILL') throw new Error(`a relay process ended with ${String(ending)} instead of killing itself`);
            killed += 1;
          }
        }),
      );
      expect(killed).toBeGreaterThanOrEqual(kills);

      // A relay that is not killed drains what is left, the rows of the killed relays included.
      const relay = createRelay({ store: f.outbox, transport: broker, pollIntervalMs: 20 });
      relay.start();
      try {
        await waitUntil(() => relay.stats.claims > 0, 5000);
        let unsent = 0;
        await waitUntil(
          async () => (unsent = (await f.outbox.counts()).unsent) === 0,
          30_000,
          () => `for the outbox to drain (${unsent} unsent)`,
        );
        let distinct = 0;
        await waitUntil(
          async () => (distinct = (await f.effects.counts()).length) >= produced.size,
          30_000,
          () => `for an effect of every message (${distinct} of ${produced.size})`,
        );
        let depth: number | undefined;
        await waitUntil(
          async () => (depth = (await broker.queues()).find((q) => q.endpoint === 'crash-consumer')?.depth) === 0,
          30_000,
          () => `for the consumer's queue to empty (depth ${String(depth)})`,
        );
      } finally {
        await relay.stop();
      }

      const effects = await f.effects.counts();
      const inbox = await f.inboxRecords('crash-consumer');
      const duplicates = deliveries - produced.size;
      if (process.env.MAILROOM_TEST_REPORT) {
        console.info(
          `[crash ${options.name}] kills=${killed} messages=${produced.size} deliveries=${deliveries} duplicates=${duplicates} effects=${effects.length} meanChildMs=${Math.round(childMs.reduce((a, b) => a + b, 0) / childMs.length)}`,
        );
      }
      expect(await f.outbox.counts()).toMatchObject({ unsent: 0 });
      expect(effects.filter((row) => row.n !== 1)).toEqual([]);
      expect(new Set(effects.map((row) => row.messageId))).toEqual(produced);
      expect(inbox).toBe(produced.size);
      expect(duplicates, 'every kill left a confirmed batch unmarked, published again by another relay').toBeGreaterThanOrEqual(kills);
      expect(await broker.deadLetters.list({ endpoint: 'crash-consumer' })).toEqual([]);
    }, 150_000);
  });
}
