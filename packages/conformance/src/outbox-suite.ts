import {
  createEndpoint,
  createMemoryTransport,
  createRelay,
  createStorePersistence,
  defineEvent,
  type Endpoint,
  type EventContract,
  HeaderNames,
  type InboxStore,
  MemoryBroker,
  type MessageDatabase,
  type OutboxMessage,
  type OutboxStore,
  type Relay,
  type Transport,
} from '@mailroom/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { numberSchema, sleep, uniqueName, waitUntil } from './helpers.js';
import { testMessage } from './test-message.js';

/** The stores of one database, as a process opens them. */
export interface StoreSet<Tx> {
  database: MessageDatabase<Tx>;
  outbox: OutboxStore<Tx>;
  inbox: InboxStore<Tx>;
}

/** A fresh, migrated, empty set of stores (unique tables) for one test, with a business table. */
export interface StoreFixture<Tx> extends StoreSet<Tx> {
  /** A business table: `insert` adds a row with `key` inside `tx`; `count` counts committed rows with `key`. */
  business: { insert(tx: Tx, key: string): Promise<void>; count(key: string): Promise<number> };
  /** Opens the same tables through another connection, as a second process would. */
  another(): Promise<StoreSet<Tx>>;
  /** Closes every connection this fixture opened and drops its tables. */
  dispose(): Promise<void>;
}

/** How the outbox and inbox suites reach the database under test. */
export interface StoreSuiteOptions<Tx> {
  /** Shown in test names. */
  name: string;
  /** Creates a fresh fixture; called before every test. */
  create: () => Promise<StoreFixture<Tx>>;
}

/** An event contract with a unique type for one test. */
export function testEvent(prefix: string): EventContract<string, ReturnType<typeof numberSchema>> {
  return defineEvent(uniqueName(prefix), { version: 1, schema: numberSchema() });
}

const text = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const decode = (body: Uint8Array) => JSON.parse(new TextDecoder().decode(body)) as { n: number; key?: string };

function outboxMessage(type: string, n: number, orderingKey?: string): OutboxMessage {
  const message = testMessage(type, text({ n, key: orderingKey }), { 'x-n': String(n) });
  return orderingKey === undefined ? message : { ...message, orderingKey };
}

/**
 * Registers the outbox store suite (vitest): transactional writes, exclusive claims, refused rows,
 * per-key order, several relays on one outbox, purging, and the outbox through an endpoint
 * (rollback emits nothing, a local commit wakes the relay, publishing inside the caller's own
 * transaction). Every outbox store must pass it.
 */
export function describeOutboxStore<Tx>(options: StoreSuiteOptions<Tx>): void {
  let f: StoreFixture<Tx>;
  const relays: Relay[] = [];
  const endpoints: Endpoint<Tx>[] = [];
  const transports: Transport[] = [];
  beforeEach(async () => {
    f = await options.create();
  });
  afterEach(async () => {
    await Promise.all(endpoints.splice(0).map((endpoint) => endpoint.stop({ timeoutMs: 1000 })));
    await Promise.all(relays.splice(0).map((relay) => relay.stop()));
    await Promise.all(transports.splice(0).map((transport) => transport.close()));
    await f.dispose();
  });

  const add = (messages: OutboxMessage[]) => f.database.transaction((tx) => f.outbox.add(tx, messages));

  describe(`outbox store conformance: ${options.name}`, () => {
    it('stores the messages of a committed transaction with route, headers, body and key intact, oldest first', async () => {
      const type = uniqueName('Stored');
      const binary = new Uint8Array([0, 255, 0xc3, 0x28, 10]);
      const messages: OutboxMessage[] = [
        { ...testMessage(type, binary, { 'x-unicode': 'ünïcødé ✓ 日本' }) },
        { ...testMessage(type, text({ n: 2 }), {}, 'some-owner'), orderingKey: 'order-1' },
        outboxMessage(type, 3),
      ];
      await add(messages.slice(0, 2));
      await add(messages.slice(2));
      const counts = await f.outbox.counts();
      expect(counts).toMatchObject({ unsent: 3, sent: 0 });
      // A store that tells when its oldest unsent row was written tells a time of this test.
      if (counts.oldestUnsentAt !== undefined) expect(Math.abs(Date.now() - counts.oldestUnsentAt.getTime())).toBeLessThan(60_000);
      const claim = await f.outbox.claim(10);
      expect(claim.records.map((r) => r.message.headers[HeaderNames.id])).toEqual(messages.map((m) => m.headers[HeaderNames.id]));
      claim.records.forEach((record, i) => {
        const message = messages[i] as OutboxMessage;
        expect(record.message.route).toEqual(message.route);
        expect(record.message.headers).toEqual(message.headers);
        expect(Buffer.from(record.message.body).equals(Buffer.from(message.body))).toBe(true);
        expect(record.message.orderingKey).toBe(message.orderingKey);
        expect(record.attempts).toBe(0);
        expect(record.createdAt.getTime()).toBeGreaterThan(Date.now() - 60_000);
      });
      expect(BigInt(claim.records[0]?.id as string) < BigInt(claim.records[2]?.id as string)).toBe(true);
      await claim.complete({ sent: [], failed: [] });
    });

    it("keeps a scheduled message's deliverAt and hands the row out at once (the transport does the waiting)", async () => {
      const type = uniqueName('Scheduled');
      const deliverAt = new Date(Date.now() + 3_600_000);
      await add([{ ...outboxMessage(type, 1), deliverAt }, outboxMessage(type, 2)]);
      const claim = await f.outbox.claim(10);
      expect(claim.records.map((r) => r.message.deliverAt?.getTime())).toEqual([deliverAt.getTime(), undefined]);
      await claim.complete({ sent: claim.records.map((r) => r.id), failed: [] });
    });

    it('has the relay pass deliverAt on, and hold back only a row scheduled beyond the transport maxScheduleDelayMs', async () => {
      const type = uniqueName('HeldBack');
      const inner = createMemoryTransport();
      transports.push(inner);
      const published: OutboxMessage[] = [];
      const shortReach: Transport = {
        ...inner,
        capabilities: { ...inner.capabilities, maxScheduleDelayMs: 60_000 },
        publish: async (message) => {
          published.push(message);
        },
      };
      const relay = createRelay({ store: f.outbox, transport: shortReach });
      const far = new Date(Date.now() + 3_600_000);
      await add([{ ...outboxMessage(type, 1), deliverAt: far }]);
      expect(await relay.runOnce()).toMatchObject({ claimed: 1, sent: 0, failed: 1 });
      expect(published).toEqual([]);
      expect(await f.outbox.counts()).toMatchObject({ unsent: 1 });
      const near = new Date(Date.now() + 30_000);
      await add([{ ...outboxMessage(type, 2), deliverAt: near }]);
      expect(await relay.runOnce()).toMatchObject({ claimed: 1, sent: 1 });
      expect(published.map((m) => m.deliverAt?.getTime())).toEqual([near.getTime()]);
    });

    it('stores nothing for a rolled-back transaction', async () => {
      const type = uniqueName('RolledBack');
      await expect(
        f.database.transaction(async (tx) => {
          await f.outbox.add(tx, [outboxMessage(type, 1), outboxMessage(type, 2, 'k')]);
          await f.business.insert(tx, type);
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      expect(await f.outbox.counts()).toMatchObject({ unsent: 0, sent: 0 });
      expect(await f.business.count(type)).toBe(0);
      const claim = await f.outbox.claim(10);
      expect(claim.records).toEqual([]);
      await claim.complete({ sent: [], failed: [] });
    });

    it('hides claimed rows from other claims until the claim ends, then releases the rows left out of the outcome', async () => {
      const type = uniqueName('Claimed');
      await add([outboxMessage(type, 1), outboxMessage(type, 2), outboxMessage(type, 3)]);
      const other = await f.another();
      const claimedAt = Date.now();
      const first = await f.outbox.claim(2);
      expect(first.records.map((r) => decode(r.message.body).n)).toEqual([1, 2]);
      expect(first.expiresAt.getTime()).toBeGreaterThan(claimedAt);
      const second = await other.outbox.claim(10);
      expect(second.records.map((r) => decode(r.message.body).n)).toEqual([3]);
      const [a, b] = first.records.map((r) => r.id) as [string, string];
      await first.complete({ sent: [a], failed: [] });
      const third = await other.outbox.claim(10);
      expect(third.records.map((r) => r.id)).toEqual([b]);
      await third.complete({ sent: [b], failed: [] });
      await second.complete({ sent: second.records.map((r) => r.id), failed: [] });
      expect(await f.outbox.counts()).toMatchObject({ unsent: 0, sent: 3 });
      const empty = await f.outbox.claim(10);
      expect(empty.records).toEqual([]);
      await empty.complete({ sent: [], failed: [] });
    });

    it('defers a refused row until its retry time and counts the attempt', async () => {
      const type = uniqueName('Refused');
      await add([outboxMessage(type, 1)]);
      const claim = await f.outbox.claim(10);
      const id = claim.records[0]?.id as string;
      await claim.complete({ sent: [], failed: [{ id, error: 'broker said no', retryAt: new Date(Date.now() + 400) }] });
      const early = await f.outbox.claim(10);
      expect(early.records).toEqual([]);
      await early.complete({ sent: [], failed: [] });
      await sleep(450);
      const later = await f.outbox.claim(10);
      expect(later.records.map((r) => [r.id, r.attempts])).toEqual([[id, 1]]);
      await later.complete({ sent: [id], failed: [] });
      expect(await f.outbox.counts()).toMatchObject({ unsent: 0, sent: 1 });
    });

    it('never hands out a row of an ordering key ahead of an older unsent row of that key', async () => {
      const type = uniqueName('Keyed');
      await add([outboxMessage(type, 1, 'k1')]);
      await add([outboxMessage(type, 2, 'k1'), outboxMessage(type, 3, 'k2')]);
      await add([outboxMessage(type, 4)]);
      const other = await f.another();
      const head = await f.outbox.claim(1);
      expect(head.records.map((r) => decode(r.message.body).n)).toEqual([1]);
      const rest = await other.outbox.claim(10);
      expect(rest.records.map((r) => decode(r.message.body).n)).toEqual([3, 4]);
      await rest.complete({ sent: rest.records.map((r) => r.id), failed: [] });
      // The head is refused: its key stays blocked until it is sent.
      await head.complete({ sent: [], failed: [{ id: head.records[0]?.id as string, error: 'no', retryAt: new Date(Date.now() + 300) }] });
      const blocked = await other.outbox.claim(10);
      expect(blocked.records).toEqual([]);
      await blocked.complete({ sent: [], failed: [] });
      await sleep(350);
      const both = await f.outbox.claim(10);
      expect(both.records.map((r) => decode(r.message.body).n)).toEqual([1, 2]);
      await both.complete({ sent: both.records.map((r) => r.id), failed: [] });
      expect(await f.outbox.counts()).toMatchObject({ unsent: 0, sent: 4 });
    });

    it('holds back only the key of a refused row: rows of other keys and without a key still go', async () => {
      const type = uniqueName('HeadOfLine');
      for (let i = 1; i <= 5; i++) await add([outboxMessage(type, i, 'stuck')]);
      const head = await f.outbox.claim(1);
      await head.complete({ sent: [], failed: [{ id: head.records[0]?.id as string, error: 'poison', retryAt: new Date(Date.now() + 60_000) }] });
      await add([outboxMessage(type, 6), outboxMessage(type, 7, 'other')]);
      const claim = await f.outbox.claim(3);
      expect(claim.records.map((r) => decode(r.message.body).n)).toEqual([6, 7]);
      await claim.complete({ sent: claim.records.map((r) => r.id), failed: [] });
      expect(await f.outbox.counts()).toMatchObject({ unsent: 5, sent: 2 });
    });

    it('hands each row to exactly one of several concurrent claimers', async () => {
      const type = uniqueName('Shared');
      for (let i = 0; i < 10; i++) await add(Array.from({ length: 20 }, (_, j) => outboxMessage(type, i * 20 + j, j % 4 === 0 ? `key-${j % 3}` : undefined)));
      const sets = [f, await f.another(), await f.another()];
      const seen = new Map<string, number>();
      await Promise.all(
        sets.map(async (set) => {
          for (let idle = 0; idle < 3; ) {
            const claim = await set.outbox.claim(7);
            for (const record of claim.records) seen.set(record.id, (seen.get(record.id) ?? 0) + 1);
            await sleep(claim.records.length > 0 ? 2 : 20);
            await claim.complete({ sent: claim.records.map((r) => r.id), failed: [] });
            idle = claim.records.length === 0 ? idle + 1 : 0;
          }
        }),
      );
      expect(seen.size).toBe(200);
      expect([...seen.values()].every((count) => count === 1)).toBe(true);
      expect(await f.outbox.counts()).toMatchObject({ unsent: 0, sent: 200 });
    });

    it('relays through a transport with two relays: every message once, each key in order', async () => {
      const broker = new MemoryBroker();
      const transport = createMemoryTransport({ broker });
      transports.push(transport);
      const type = uniqueName('Relayed');
      const endpoint = uniqueName('relayed');
      const received: { n: number; key?: string | undefined }[] = [];
      await transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 1 }, async (delivery) => {
        received.push(decode(delivery.body));
        await delivery.ack();
      });
      const keys = ['a', 'b', 'c', 'd', 'e'];
      for (let i = 0; i < 100; i++) await add([outboxMessage(type, i, keys[i % 5])]);
      await add(Array.from({ length: 50 }, (_, i) => outboxMessage(type, 100 + i)));
      const other = await f.another();
      for (const store of [f.outbox, other.outbox]) {
        const relay = createRelay({ store, transport: createMemoryTransport({ broker }), batchSize: 7, pollIntervalMs: 20 });
        relays.push(relay);
        relay.start();
      }
      await waitUntil(
        () => received.length >= 150,
        20_000,
        () => `received ${received.length}/150`,
      );
      await sleep(100);
      expect(received).toHaveLength(150);
      expect(new Set(received.map((m) => m.n)).size).toBe(150);
      for (const key of keys) {
        const order = received.filter((m) => m.key === key).map((m) => m.n);
        expect(order).toEqual([...order].sort((x, y) => x - y));
        expect(order).toHaveLength(20);
      }
      expect((relays[0]?.stats.sent ?? 0) + (relays[1]?.stats.sent ?? 0)).toBe(150);
      expect(await f.outbox.counts()).toMatchObject({ unsent: 0, sent: 150 });
    });

    it('retries a message the transport refused until it is accepted', async () => {
      const broker = new MemoryBroker();
      const inner = createMemoryTransport({ broker });
      transports.push(inner);
      let refusals = 2;
      const flaky: Transport = {
        ...inner,
        publish: async (message) => {
          if (refusals-- > 0) throw new Error('broker unavailable');
          await inner.publish(message);
        },
      };
      const type = uniqueName('Flaky');
      const got: number[] = [];
      await inner.subscribe({ endpoint: uniqueName('flaky'), events: [type], commands: [], concurrency: 1 }, async (d) => {
        got.push(decode(d.body).n);
        await d.ack();
      });
      await add([outboxMessage(type, 1, 'only')]);
      const relay = createRelay({ store: f.outbox, transport: flaky, pollIntervalMs: 20, retryDelayMs: 30 });
      relays.push(relay);
      relay.start();
      await waitUntil(() => got.length === 1, 10_000);
      expect(relay.stats.failed).toBe(2);
      expect(await f.outbox.counts()).toMatchObject({ unsent: 0, sent: 1 });
    });

    it('purges only sent rows older than the cutoff', async () => {
      const type = uniqueName('Purged');
      await add([outboxMessage(type, 1), outboxMessage(type, 2)]);
      const claim = await f.outbox.claim(1);
      await claim.complete({ sent: claim.records.map((r) => r.id), failed: [] });
      expect(await f.outbox.purgeSent(new Date(Date.now() - 60_000), 100)).toBe(0);
      await sleep(20);
      expect(await f.outbox.purgeSent(new Date(Date.now() + 1000), 100)).toBe(1);
      expect(await f.outbox.counts()).toMatchObject({ unsent: 1, sent: 0 });
    });
  });

  describe(`transactional outbox through an endpoint: ${options.name}`, () => {
    const start = async (relayOptions: { pollIntervalMs: number }) => {
      const broker = new MemoryBroker();
      const transport = createMemoryTransport({ broker });
      transports.push(transport);
      const persistence = createStorePersistence({ database: f.database, outbox: f.outbox, inbox: f.inbox, relay: relayOptions });
      const endpoint = createEndpoint({ name: uniqueName('producer'), transport, persistence });
      endpoints.push(endpoint);
      await endpoint.start();
      return { endpoint, persistence, transport };
    };
    const listen = async (transport: Transport, type: string) => {
      const got: number[] = [];
      await transport.subscribe({ endpoint: uniqueName('listener'), events: [type], commands: [], concurrency: 1 }, async (d) => {
        got.push(decode(d.body).n);
        await d.ack();
      });
      return got;
    };

    it('commits business rows and messages together; a rolled-back transaction emits nothing', async () => {
      const Event = testEvent('Committed');
      const { endpoint, transport } = await start({ pollIntervalMs: 50 });
      const got = await listen(transport, Event.type);
      await expect(
        endpoint.transaction(async ({ tx, publish }) => {
          await f.business.insert(tx, 'rolled-back');
          await publish(Event, { n: 1 });
          throw new Error('business rule failed');
        }),
      ).rejects.toThrow('business rule failed');
      await endpoint.transaction(async ({ tx, publish }) => {
        await f.business.insert(tx, 'committed');
        await publish(Event, { n: 2 });
        await publish(Event, { n: 3 });
      });
      await waitUntil(
        () => got.length >= 2,
        10_000,
        () => `got ${got}`,
      );
      await sleep(200);
      expect(got).toEqual([2, 3]);
      expect(await f.business.count('rolled-back')).toBe(0);
      expect(await f.business.count('committed')).toBe(1);
      expect(await f.outbox.counts()).toMatchObject({ unsent: 0 });
    });

    it('sends a scheduled message through the relay at once; the transport delivers it at its time', async () => {
      const Event = testEvent('Later');
      const { endpoint, transport } = await start({ pollIntervalMs: 50 });
      const got = await listen(transport, Event.type);
      await endpoint.transaction(async ({ publish }) => {
        await publish(Event, { n: 1 }, { delayMs: 3_600_000 });
        await publish(Event, { n: 2 });
      });
      await waitUntil(
        async () => (await f.outbox.counts()).unsent === 0 && got.length === 1,
        10_000,
        () => `got ${got}`,
      );
      expect(got).toEqual([2]);
      (transport as ReturnType<typeof createMemoryTransport>).broker.advanceTime(3_600_000);
      await waitUntil(
        () => got.length === 2,
        10_000,
        () => `got ${got}`,
      );
      expect(got).toEqual([2, 1]);
    });

    it('wakes the relay right after a local commit instead of waiting for its poll', async () => {
      const Event = testEvent('Woken');
      const { endpoint, transport, persistence } = await start({ pollIntervalMs: 60_000 });
      const got = await listen(transport, Event.type);
      await waitUntil(() => (persistence.relay?.stats.claims ?? 0) >= 1, 5000);
      await sleep(100); // the relay's first pass is over: it now sleeps for a minute unless woken
      await endpoint.transaction(async ({ publish }) => {
        await publish(Event, { n: 1 });
      });
      await waitUntil(
        () => got.length === 1,
        10_000,
        () => 'not delivered: the commit did not wake the relay',
      );
      expect(persistence.relay?.stats.wakes).toBeGreaterThanOrEqual(1);
    });

    it('writes to the outbox inside a transaction the caller opened, with { tx }: sent after commit, nothing after rollback', async () => {
      const Event = testEvent('OwnTx');
      const { endpoint, transport, persistence } = await start({ pollIntervalMs: 60_000 });
      const got = await listen(transport, Event.type);
      await expect(
        f.database.transaction(async (tx) => {
          await endpoint.publish(Event, { n: 1 }, { tx });
          throw new Error('caller rolls back');
        }),
      ).rejects.toThrow('caller rolls back');
      await f.database.transaction(async (tx) => {
        await f.business.insert(tx, 'own');
        await endpoint.publish(Event, { n: 2, key: 'agg-1' }, { tx, orderingKey: 'agg-1' });
      });
      expect(await f.outbox.counts()).toMatchObject({ unsent: 1, sent: 0 });
      persistence.wake();
      await waitUntil(() => got.length === 1, 10_000);
      await sleep(100);
      expect(got).toEqual([2]);
      expect(await f.business.count('own')).toBe(1);
    });
  });
}
