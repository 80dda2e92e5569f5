import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { defineEvent } from './contract.js';
import { createEndpoint } from './endpoint.js';
import { ErrorCodes, isMailroomError } from './errors.js';
import { outboxRecordFromRow, selectInKeyOrder, unsentIdsByKey } from './internal/outbox-rows.js';
import { createMemoryTransport } from './memory-transport.js';
import type { OutboxRecord, OutboxStore } from './outbox.js';
import { createRelay, resolveRelaySettings } from './relay.js';

/** A relay over a store whose claims `claim` answers, polling every ms, errors swallowed, not started. */
function relayClaiming(claim: OutboxStore<unknown>['claim'], maxErrorBackoffMs: number) {
  const store: OutboxStore<unknown> = { add: async () => undefined, claim, purgeSent: async () => 0, counts: async () => ({ unsent: 0, sent: 0 }) };
  const relay = createRelay({ store, transport: createMemoryTransport(), pollIntervalMs: 1, maxErrorBackoffMs });
  relay.onError(() => undefined);
  return relay;
}

const record = (id: number, key: string | undefined): OutboxRecord => ({
  id: String(id),
  message: { route: { kind: 'event', type: 'T' }, headers: {}, body: new Uint8Array(), ...(key !== undefined && { orderingKey: key }) },
  attempts: 0,
  createdAt: new Date(0),
});

describe('selectInKeyOrder', () => {
  it('never selects a row of a key unless every older unsent row of that key is selected before it, and always selects a key whose oldest row is a candidate', () => {
    const row = fc.record({ key: fc.constantFrom(undefined, 'a', 'b', 'c'), sent: fc.boolean(), candidate: fc.boolean() });
    fc.assert(
      fc.property(fc.array(row, { maxLength: 40 }), (rows) => {
        const table = rows.map((r, i) => ({ ...r, id: i + 1, candidate: r.candidate && !r.sent }));
        const candidates = table.filter((r) => r.candidate).map((r) => record(r.id, r.key));
        const newest = Number(candidates.at(-1)?.id ?? 0);
        const unsentByKey = new Map<string, string[]>();
        for (const r of table) {
          if (r.sent || r.key === undefined || r.id > newest) continue;
          unsentByKey.set(r.key, [...(unsentByKey.get(r.key) ?? []), String(r.id)]);
        }
        const selected = selectInKeyOrder(candidates, unsentByKey);
        const chosen = new Set(selected.map((r) => Number(r.id)));
        expect(selected.map((r) => Number(r.id))).toEqual([...chosen].sort((x, y) => x - y));
        for (const r of table) {
          if (r.candidate && r.key === undefined) expect(chosen.has(r.id)).toBe(true);
          if (!chosen.has(r.id) || r.key === undefined) continue;
          for (const older of table) if (older.key === r.key && !older.sent && older.id < r.id) expect(chosen.has(older.id)).toBe(true);
        }
        for (const [key, ids] of unsentByKey) {
          const head = table.find((r) => String(r.id) === ids[0]);
          if (head?.candidate) expect(chosen.has(head.id), `head of ${key}`).toBe(true);
        }
      }),
    );
  });
});

describe('outbox rows', () => {
  it('reads the row of either SQL store into the same record, and groups unsent ids per key, oldest first', () => {
    const body = Buffer.from('{"n":1}');
    const sqlite = {
      id: 7,
      route_kind: 'command',
      type: 'T',
      destination: 'billing',
      headers: '{"ce-id":"m"}',
      body,
      ordering_key: 'k',
      attempts: 2,
      created_at: 1000,
    } as const;
    const postgres = { ...sqlite, id: '7', headers: { 'ce-id': 'm' }, created_at: new Date(1000) };
    for (const row of [sqlite, postgres]) {
      const record = outboxRecordFromRow(row);
      expect(record).toEqual({
        id: '7',
        message: { route: { kind: 'command', type: 'T', destination: 'billing' }, headers: { 'ce-id': 'm' }, body: new Uint8Array(body), orderingKey: 'k' },
        attempts: 2,
        createdAt: new Date(1000),
      });
      expect(Buffer.isBuffer(record.message.body)).toBe(false);
    }
    expect(outboxRecordFromRow({ ...sqlite, route_kind: 'event', destination: null, ordering_key: null }).message).toEqual({
      route: { kind: 'event', type: 'T' },
      headers: { 'ce-id': 'm' },
      body: new Uint8Array(body),
    });
    const grouped = unsentIdsByKey([
      { ordering_key: 'a', id: 1 },
      { ordering_key: 'b', id: '2' },
      { ordering_key: 'a', id: 3 },
    ]);
    expect([...grouped]).toEqual([
      ['a', ['1', '3']],
      ['b', ['2']],
    ]);
  });
});

describe('outbox options', () => {
  const Event = defineEvent('OutboxOptionTest', {
    version: 1,
    schema: {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: (value: unknown) => ({ value: value as { n: number } }),
        types: undefined as unknown as { input: { n: number }; output: { n: number } },
      },
    },
  });

  it('rejects { tx } without persistence and a bad ordering key with MAILROOM_ERR_ENDPOINT_CONFIG, sending nothing', async () => {
    const transport = createMemoryTransport();
    const endpoint = createEndpoint<unknown>({ name: 'no-db', transport });
    const config = (e: unknown) => isMailroomError(e, ErrorCodes.ENDPOINT_CONFIG);
    await expect(endpoint.publish(Event, { n: 1 }, { tx: {} })).rejects.toSatisfy(config);
    await expect(endpoint.publish(Event, { n: 1 }, { orderingKey: '' })).rejects.toSatisfy(config);
    await expect(endpoint.publish(Event, { n: 1 }, { orderingKey: 'x'.repeat(201) })).rejects.toSatisfy(config);
    await expect(endpoint.transaction(async () => undefined)).rejects.toSatisfy(config);
    expect(await transport.queues()).toEqual([]);
  });

  it('lets a relay restart while its stop is in progress: the stop resolves and one loop runs on', async () => {
    let claimsInFlight = 0;
    let peak = 0;
    const store: OutboxStore<unknown> = {
      add: async () => undefined,
      claim: async () => {
        peak = Math.max(peak, ++claimsInFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        claimsInFlight--;
        return { records: [], expiresAt: new Date(), complete: async () => undefined };
      },
      purgeSent: async () => 0,
      counts: async () => ({ unsent: 0, sent: 0 }),
    };
    const relay = createRelay({ store, transport: createMemoryTransport(), pollIntervalMs: 1 });
    relay.start();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const stopping = relay.stop();
    relay.start();
    const outcome = await Promise.race([stopping.then(() => 'stopped'), new Promise((resolve) => setTimeout(() => resolve('hung'), 500))]);
    expect(outcome).toBe('stopped');
    expect(relay.started).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(peak).toBe(1);
    await relay.stop();
    expect(relay.started).toBe(false);
  });

  it('backs off after a failing claim whatever wake() says, so a dead database is not hammered', async () => {
    let claims = 0;
    const relay = relayClaiming(async () => {
      claims += 1;
      throw new Error('database unavailable');
    }, 60_000);
    relay.start();
    // 60 wakes over about 300 ms: a backoff they ended would claim about once per wake.
    for (let i = 0; i < 60; i++) {
      relay.wake();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // 100 + 200 + 400 ms of backoff after the first failures: a few claims at most.
    expect(claims).toBeLessThanOrEqual(6);
    await relay.stop();
  });

  it('a stop() and start() while a claim fails: the old loop leaves its backoff at once and the new one claims', async () => {
    vi.useFakeTimers();
    try {
      let claims = 0;
      let failPending!: (error: Error) => void;
      const relay = relayClaiming(() => {
        claims += 1;
        if (claims <= 10) return Promise.reject(new Error('database unavailable'));
        if (claims === 11) return new Promise((_, reject) => (failPending = reject));
        return Promise.resolve({ records: [], expiresAt: new Date(Date.now() + 1000), complete: async () => undefined });
      }, 600_000);
      relay.start();
      // Ten failed claims: the next backoff would be 50 ms * 2^10, about 102 s.
      await vi.advanceTimersByTimeAsync(120_000);
      expect(claims).toBe(11);
      const stopping = relay.stop();
      relay.start();
      failPending(new Error('database unavailable'));
      await vi.advanceTimersByTimeAsync(1000);
      await stopping;
      // The old loop did not sit out its backoff on the new start's signal: the new loop has claimed.
      expect(claims).toBeGreaterThanOrEqual(12);
      const stopped = relay.stop();
      await vi.advanceTimersByTimeAsync(1000);
      await stopped;
    } finally {
      vi.useRealTimers();
    }
  });

  it('stop() ends an error backoff at once, however long it is', async () => {
    vi.useFakeTimers();
    try {
      let claims = 0;
      const relay = relayClaiming(async () => {
        claims += 1;
        throw new Error('database unavailable');
      }, 600_000);
      relay.start();
      // Ten failed claims: the relay now sits in a backoff of about 102 s.
      await vi.advanceTimersByTimeAsync(120_000);
      expect(claims).toBe(11);
      let stopped = false;
      const stopping = relay.stop().then(() => {
        stopped = true;
      });
      // No fake time passes: only stop() can have ended the wait.
      await vi.advanceTimersByTimeAsync(0);
      expect(stopped).toBe(true);
      await stopping;
      expect(claims).toBe(11);
    } finally {
      vi.useRealTimers();
    }
  });

  it('starts no publish in the last quarter of a claim and releases the rows it did not reach, so they never go out while another relay may hold them', async () => {
    const outcomes: { sent: readonly string[]; failed: readonly unknown[] }[] = [];
    let expiresAt = 0;
    const records = Array.from({ length: 10 }, (_, i) => record(i + 1, 'k'));
    const store: OutboxStore<unknown> = {
      add: async () => undefined,
      claim: async () => {
        expiresAt = Date.now() + 400;
        return { records, expiresAt: new Date(expiresAt), complete: async (outcome) => void outcomes.push(outcome) };
      },
      purgeSent: async () => 0,
      counts: async () => ({ unsent: 0, sent: 0 }),
    };
    const publishedAt: number[] = [];
    const transport = createMemoryTransport();
    const slow = {
      ...transport,
      publish: async () => {
        publishedAt.push(Date.now());
        await new Promise((resolve) => setTimeout(resolve, 60));
      },
    };
    const relay = createRelay({ store, transport: slow });
    const batch = await relay.runOnce();
    await transport.close();
    // 10 publishes of 60 ms would take 600 ms; the claim lasts 400 ms.
    expect(publishedAt.length).toBeGreaterThan(0);
    expect(publishedAt.length).toBeLessThan(10);
    for (const at of publishedAt) expect(at).toBeLessThan(expiresAt - 90);
    expect(outcomes).toEqual([{ sent: records.slice(0, publishedAt.length).map((r) => r.id), failed: [] }]);
    expect(batch).toMatchObject({ claimed: 10, sent: publishedAt.length, failed: 0 });
  });

  it('checks relay settings and names the bad one', () => {
    expect(resolveRelaySettings()).toMatchObject({ batchSize: 100, pollIntervalMs: 1000, retentionMs: 3_600_000 });
    for (const [option, value] of [
      ['batchSize', 0],
      ['publishConcurrency', 1.5],
      ['pollIntervalMs', -1],
      ['retryDelayMs', Number.NaN],
      ['retentionMs', -5],
    ] as const) {
      expect(() => resolveRelaySettings({ [option]: value })).toThrow(
        expect.objectContaining({ code: ErrorCodes.PERSISTENCE_CONFIG, message: expect.stringContaining(option) }),
      );
    }
  });
});
