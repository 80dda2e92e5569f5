import { randomUUID } from 'node:crypto';
import { createEndpoint, createMemoryTransport, createStorePersistence, type Endpoint, type Transport } from '@mailroom/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sleep, uniqueName, waitUntil } from './helpers.js';
import { type StoreFixture, type StoreSuiteOptions, testEvent } from './outbox-suite.js';

/**
 * Registers the inbox store suite (vitest): records commit with their transaction, racing
 * transactions record a message id once, purging; and the inbox through an endpoint (a duplicate
 * delivery is acknowledged and skipped, a failed handler leaves no record so its retry runs, a
 * message replayed from the dead-letter queue runs again, the record, the handler's writes and
 * its outgoing messages commit together). Every inbox store must pass it.
 */
export function describeInboxStore<Tx>(options: StoreSuiteOptions<Tx>): void {
  let f: StoreFixture<Tx>;
  const endpoints: Endpoint<Tx>[] = [];
  const transports: Transport[] = [];
  beforeEach(async () => {
    f = await options.create();
  });
  afterEach(async () => {
    await Promise.all(endpoints.splice(0).map((endpoint) => endpoint.stop({ timeoutMs: 1000 })));
    await Promise.all(transports.splice(0).map((transport) => transport.close()));
    await f.dispose();
  });

  const record = (endpoint: string, id: string) => f.database.transaction((tx) => f.inbox.record(tx, endpoint, id));

  describe(`inbox store conformance: ${options.name}`, () => {
    it('records a message once per endpoint; the second record is a duplicate', async () => {
      const id = randomUUID();
      expect(await f.inbox.has('billing', id)).toBe(false);
      expect(await record('billing', id)).toBe(true);
      expect(await record('billing', id)).toBe(false);
      expect(await record('shipping', id)).toBe(true);
      expect(await f.inbox.has('billing', id)).toBe(true);
      expect(await f.inbox.has('billing', randomUUID())).toBe(false);
    });

    it('keeps no record from a rolled-back transaction', async () => {
      const id = randomUUID();
      await expect(
        f.database.transaction(async (tx) => {
          expect(await f.inbox.record(tx, 'billing', id)).toBe(true);
          throw new Error('handler failed');
        }),
      ).rejects.toThrow('handler failed');
      expect(await f.inbox.has('billing', id)).toBe(false);
      expect(await record('billing', id)).toBe(true);
    });

    it('lets exactly one of two racing transactions record a message id (50 races, two connections)', async () => {
      const other = await f.another();
      for (let race = 0; race < 50; race++) {
        const id = randomUUID();
        const attempt = (set: typeof other) =>
          set.database.transaction(async (tx) => {
            const fresh = await set.inbox.record(tx, 'racer', id);
            await sleep(1);
            return fresh;
          });
        const outcomes = await Promise.all([attempt(f), attempt(other)]);
        expect(outcomes.filter(Boolean)).toHaveLength(1);
      }
    });

    it('lets a racing transaction take over when the first one rolls back', async () => {
      const other = await f.another();
      const id = randomUUID();
      let recorded!: () => void;
      const firstRecorded = new Promise<void>((resolve) => (recorded = resolve));
      const first = f.database.transaction(async (tx) => {
        await f.inbox.record(tx, 'racer', id);
        recorded();
        await sleep(50);
        throw new Error('first handler failed');
      });
      await firstRecorded;
      const second = other.database.transaction((tx) => other.inbox.record(tx, 'racer', id));
      await expect(first).rejects.toThrow('first handler failed');
      expect(await second).toBe(true);
      expect(await f.inbox.has('racer', id)).toBe(true);
    });

    it('purges only records older than the cutoff', async () => {
      const old = randomUUID();
      const young = randomUUID();
      await record('billing', old);
      await sleep(60);
      const cutoff = new Date();
      await sleep(60);
      await record('billing', young);
      expect(await f.inbox.purge(cutoff, 100)).toBe(1);
      expect(await f.inbox.has('billing', old)).toBe(false);
      expect(await f.inbox.has('billing', young)).toBe(true);
    });
  });

  describe(`idempotent inbox through an endpoint: ${options.name}`, () => {
    const start = async (recoverability: { immediateRetries: number; delayedRetries: number }) => {
      const transport = createMemoryTransport();
      transports.push(transport);
      const persistence = createStorePersistence({ database: f.database, outbox: f.outbox, inbox: f.inbox, relay: { pollIntervalMs: 50 } });
      const endpoint = createEndpoint({ name: uniqueName('consumer'), transport, persistence, recoverability });
      endpoints.push(endpoint);
      return { endpoint, transport };
    };
    const settled = async (transport: Transport, endpoint: string) => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const info = (await transport.queues()).find((q) => q.endpoint === endpoint);
        if (info && info.depth === 0 && info.inFlight === 0) return;
        if (Date.now() > deadline) throw new Error(`queue ${endpoint} not drained: ${JSON.stringify(info)}`);
        await sleep(10);
      }
    };

    it('acknowledges and skips a duplicate delivery: the handler runs once', async () => {
      const Event = testEvent('Duplicated');
      const { endpoint, transport } = await start({ immediateRetries: 0, delayedRetries: 0 });
      let runs = 0;
      endpoint.on(Event, async (message, ctx) => {
        runs += 1;
        await f.business.insert(ctx.tx, `dup-${message.n}`);
      });
      await endpoint.start();
      const id = randomUUID();
      await endpoint.publish(Event, { n: 1 }, { id });
      await endpoint.publish(Event, { n: 1 }, { id });
      await endpoint.publish(Event, { n: 1 }, { id });
      await settled(transport, endpoint.name);
      expect(runs).toBe(1);
      expect(await f.business.count('dup-1')).toBe(1);
      expect(await transport.deadLetters.list({ endpoint: endpoint.name })).toEqual([]);
      expect(await f.inbox.has(endpoint.name, id)).toBe(true);
    });

    it('leaves no record and no writes when the handler fails, so its retry runs; the record, writes and messages then commit together', async () => {
      const Event = testEvent('FailsOnce');
      const Followup = testEvent('Followup');
      const { endpoint, transport } = await start({ immediateRetries: 2, delayedRetries: 0 });
      const followups: number[] = [];
      await transport.subscribe({ endpoint: uniqueName('followups'), events: [Followup.type], commands: [], concurrency: 1 }, async (d) => {
        followups.push(JSON.parse(new TextDecoder().decode(d.body)).n);
        await d.ack();
      });
      const attempts: number[] = [];
      endpoint.on(Event, async (message, ctx) => {
        await f.business.insert(ctx.tx, `effect-${message.n}`);
        await ctx.publish(Followup, { n: message.n * 10 });
        attempts.push(ctx.attempt);
        if (ctx.attempt === 1) throw new Error('transient failure');
      });
      await endpoint.start();
      const { id } = await endpoint.publish(Event, { n: 7 });
      await waitUntil(() => followups.length >= 1, 10_000);
      await settled(transport, endpoint.name);
      await sleep(150);
      expect(attempts).toEqual([1, 2]);
      expect(await f.business.count('effect-7')).toBe(1);
      expect(followups).toEqual([70]);
      expect(await f.inbox.has(endpoint.name, id)).toBe(true);
    });

    it('runs a message replayed from the dead-letter queue again: a dead-lettered message left no record', async () => {
      const Event = testEvent('Replayed');
      const { endpoint, transport } = await start({ immediateRetries: 0, delayedRetries: 0 });
      let failing = true;
      let runs = 0;
      endpoint.on(Event, async (message, ctx) => {
        runs += 1;
        await f.business.insert(ctx.tx, `replayed-${message.n}`);
        if (failing) throw new Error('downstream rejected it');
      });
      await endpoint.start();
      const { id } = await endpoint.publish(Event, { n: 3 });
      let letters = await transport.deadLetters.list({ endpoint: endpoint.name });
      for (const deadline = Date.now() + 10_000; letters.length === 0 && Date.now() < deadline; await sleep(10)) {
        letters = await transport.deadLetters.list({ endpoint: endpoint.name });
      }
      expect(letters.map((l) => l.messageId)).toEqual([id]);
      expect(await f.inbox.has(endpoint.name, id)).toBe(false);
      failing = false;
      await transport.deadLetters.replay(letters[0]?.id as string);
      await waitUntil(() => runs === 2, 10_000);
      await settled(transport, endpoint.name);
      expect(await f.inbox.has(endpoint.name, id)).toBe(true);
      expect(await f.business.count('replayed-3')).toBe(1);
    });
  });
}
