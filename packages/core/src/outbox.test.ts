import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defineEvent } from './contract.js';
import { createEndpoint } from './endpoint.js';
import { ErrorCodes, isMailroomError } from './errors.js';
import { createMemoryTransport } from './memory-transport.js';
import { type OutboxRecord, selectInKeyOrder } from './outbox.js';
import { resolveRelaySettings } from './relay.js';

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
