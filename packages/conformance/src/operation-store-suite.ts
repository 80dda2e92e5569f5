import { ErrorCodes, type OperationClassifier, type OperationEntryKind, type OperationStep, type OperationStore } from '@mailroom/core';
import { afterEach, describe, expect, it } from 'vitest';

/** One database for operation stores: each `store()` opens a new connection to it, as another process would. */
export interface OperationStoreFixture {
  /** A store (not migrated yet) on the fixture's database through a connection of its own. */
  store(): Promise<OperationStore>;
  /** Closes every connection the fixture opened and removes its database (file or schema). */
  dispose(): Promise<void>;
}

/** How {@link describeOperationStore} reaches the database under test. */
export interface OperationStoreSuiteOptions {
  /** Shown in test names. */
  name: string;
  /** Creates a fresh, empty database; called by every test that needs one. */
  create: () => Promise<OperationStoreFixture>;
  /**
   * Creates a store with these names, without touching a database, for the option checks; `schemas`
   * says whether the dialect has schemas (a dialect without them ignores `schema`). Omit to skip those tests.
   */
  names?: { open(names: { tablePrefix?: string; schema?: string }): unknown; schemas: boolean };
}

/** The types the suite's operations use: one operation with steps, completion and failure, one that only completes. */
const PLACE_ORDER = 'shop.place-order';
const QUICK_ORDER = 'shop.quick-order';
const PAYMENT_CAPTURED = 'shop.payment-captured';
const STOCK_RESERVED = 'shop.stock-reserved';
const ORDER_SHIPPED = 'shop.order-shipped';
const PAYMENT_DECLINED = 'shop.payment-declined';

const PLACE_ORDER_STEPS: readonly OperationStep[] = [
  { type: PAYMENT_CAPTURED, label: 'Payment captured' },
  { type: STOCK_RESERVED, label: STOCK_RESERVED },
];

const ROLES: Record<string, Record<string, OperationEntryKind>> = {
  'place-order': {
    [PLACE_ORDER]: 'started',
    [PAYMENT_CAPTURED]: 'step',
    [STOCK_RESERVED]: 'step',
    [ORDER_SHIPPED]: 'completed',
    [PAYMENT_DECLINED]: 'failed',
  },
  'quick-order': { [QUICK_ORDER]: 'started', [ORDER_SHIPPED]: 'completed' },
};

/** The classifier `@mailroom/http`'s `classifierFor` makes for the two operations: the role, and the whole payload except for the start. */
const classify: OperationClassifier = (operationName, event) => {
  const kind = ROLES[operationName]?.[event.type];
  if (!kind) return undefined;
  const data = kind === 'started' ? undefined : event.data;
  return data === undefined ? { kind } : { kind, data };
};

const event = (type: string, messageId: string, at: number, data?: unknown) => ({ type, messageId, at: new Date(at), data });

/**
 * The conformance suite of an {@link OperationStore}: idempotent and concurrent migrations, a
 * gap-free history under concurrent appends from two connections, duplicates, unrelated and late
 * events ignored, early events kept and applied in event-time order, timeouts applied once by
 * concurrent sweepers and across batches, and (with `names`) the option checks with
 * `MAILROOM_ERR_OPERATION_CONFIG`. Call it from a vitest file of the dialect package.
 */
export function describeOperationStore(options: OperationStoreSuiteOptions): void {
  const cleanups: (() => Promise<void>)[] = [];
  const open = async (): Promise<OperationStoreFixture> => {
    const fixture = await options.create();
    cleanups.push(() => fixture.dispose());
    return fixture;
  };

  describe(`operation store (${options.name})`, () => {
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    it('migrates idempotently, also from two connections at once', async () => {
      const db = await open();
      const [a, b] = [await db.store(), await db.store()];
      await Promise.all([a.migrate(), b.migrate()]);
      await a.migrate();
      expect(await a.read('nothing')).toBeUndefined();
    });

    it('keeps a gap-free history: duplicates, unrelated events and events after the end are ignored; concurrent appends are serialized', async () => {
      const db = await open();
      const [a, b] = [await db.store(), await db.store()];
      await a.migrate();
      const t0 = Date.parse('2026-01-01T00:00:00Z');
      const created = await a.create(
        {
          id: 'op-1',
          name: 'place-order',
          steps: PLACE_ORDER_STEPS,
          startedAt: new Date(t0),
          deadline: undefined,
          started: { type: PLACE_ORDER, messageId: 'm0' },
        },
        classify,
      );
      expect(created).toBe(true);
      expect(
        await b.create(
          { id: 'op-1', name: 'place-order', steps: [], startedAt: new Date(t0), deadline: undefined, started: { type: PLACE_ORDER, messageId: 'other' } },
          classify,
        ),
      ).toBe(false);
      expect(await a.append('op-1', event(PAYMENT_CAPTURED, 'm1', t0 + 1, { orderId: 'o' }), classify)).toBe('recorded');
      expect(await b.append('op-1', event(PAYMENT_CAPTURED, 'm1', t0 + 1, { orderId: 'o' }), classify)).toBe('duplicate');
      expect(await a.append('op-1', event('shop.unrelated', 'mx', t0 + 2), classify)).toBe('unrelated');
      // Concurrent appends from two connections (two tracker processes): each gets its own seq, none lost.
      const outcomes = await Promise.all(
        Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? a : b).append('op-1', event(STOCK_RESERVED, `s${i}`, t0 + 10 + i, { orderId: 'o' }), classify)),
      );
      expect(outcomes).toEqual(Array(12).fill('recorded'));
      expect(await a.append('op-1', event(ORDER_SHIPPED, 'm-end', t0 + 100, { orderId: 'o', trackingNumber: 'T' }), classify)).toBe('recorded');
      expect(await b.append('op-1', event(PAYMENT_DECLINED, 'm-late', t0 + 200, { orderId: 'o', reason: 'late' }), classify)).toBe('final');
      const stored = await b.read('op-1');
      expect(stored?.operation).toMatchObject({ id: 'op-1', name: 'place-order', steps: PLACE_ORDER_STEPS, startedAt: '2026-01-01T00:00:00.000Z' });
      expect(stored?.operation.deadline).toBeUndefined();
      expect(stored?.entries.map((entry) => entry.seq)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
      expect(stored?.entries.at(-1)).toMatchObject({ kind: 'completed', type: ORDER_SHIPPED, data: { trackingNumber: 'T' } });
      expect(stored?.entries[0]).toMatchObject({ kind: 'started', messageId: 'm0', at: '2026-01-01T00:00:00.000Z' });
      expect(stored?.entries[0]?.data).toBeUndefined();
      expect((await a.read('op-1', 13))?.entries.map((entry) => entry.seq)).toEqual([14, 15]);
    });

    it('keeps events that arrive before their operation and applies them, in event-time order, when it is recorded', async () => {
      const db = await open();
      const store = await db.store();
      await store.migrate();
      const t0 = Date.parse('2026-02-01T00:00:00Z');
      expect(await store.append('early', event(STOCK_RESERVED, 'e2', t0 + 20, { orderId: 'o' }), classify)).toBe('early');
      expect(await store.append('early', event(PAYMENT_CAPTURED, 'e1', t0 + 10, { orderId: 'o' }), classify)).toBe('early');
      expect(await store.append('early', event(PAYMENT_CAPTURED, 'e1', t0 + 10, { orderId: 'o' }), classify)).toBe('early');
      expect(await store.read('early')).toBeUndefined();
      await store.create(
        {
          id: 'early',
          name: 'place-order',
          steps: PLACE_ORDER_STEPS,
          startedAt: new Date(t0),
          deadline: undefined,
          started: { type: PLACE_ORDER, messageId: 'e0' },
        },
        classify,
      );
      const stored = await store.read('early');
      expect(stored?.entries.map((entry) => [entry.seq, entry.type])).toEqual([
        [1, PLACE_ORDER],
        [2, PAYMENT_CAPTURED],
        [3, STOCK_RESERVED],
      ]);
      expect(await store.append('orphan', event(PAYMENT_CAPTURED, 'o1', t0), classify)).toBe('early');
      expect(await store.purgeEarly(new Date(Date.now() + 1000))).toBe(1);
    });

    it('times out every overdue operation in one sweep, even more than one batch of them', async () => {
      const db = await open();
      const store = await db.store();
      await store.migrate();
      const now = Date.now();
      for (let i = 0; i < 130; i++) {
        await store.create(
          {
            id: `overdue-${i}`,
            name: 'quick-order',
            steps: [],
            startedAt: new Date(now - 1000),
            deadline: new Date(now - 10),
            started: { type: QUICK_ORDER, messageId: `overdue-${i}-m` },
          },
          classify,
        );
      }
      expect(await store.expire(new Date(now))).toHaveLength(130);
    });

    it('times out overdue operations exactly once, even with two sweepers', async () => {
      const db = await open();
      const [a, b] = [await db.store(), await db.store()];
      await a.migrate();
      const now = Date.now();
      for (const [id, deadline] of [
        ['due-1', now - 10],
        ['due-2', now - 5],
        ['later', now + 60_000],
      ] as const) {
        await a.create(
          {
            id,
            name: 'quick-order',
            steps: [],
            startedAt: new Date(now - 1000),
            deadline: new Date(deadline),
            started: { type: QUICK_ORDER, messageId: `${id}-m` },
          },
          classify,
        );
      }
      const [first, second] = await Promise.all([a.expire(new Date(now)), b.expire(new Date(now))]);
      expect([...first, ...second].sort()).toEqual(['due-1', 'due-2']);
      const due = await a.read('due-1');
      expect(due?.entries.map((entry) => entry.kind)).toEqual(['started', 'timed-out']);
      expect(await a.append('due-1', event(ORDER_SHIPPED, 'late', now, { orderId: 'x', trackingNumber: 'y' }), classify)).toBe('final');
      expect((await a.read('later'))?.entries).toHaveLength(1);
    });

    const names = options.names;
    it.runIf(names !== undefined)(
      'names follow the SQL identifier rule of the persistence (at most 40 characters), refused with MAILROOM_ERR_OPERATION_CONFIG',
      () => {
        if (!names) return;
        const longest = `p${'x'.repeat(39)}`;
        expect(() => names.open({ tablePrefix: longest })).not.toThrow();
        if (names.schemas) expect(() => names.open({ schema: longest, tablePrefix: longest })).not.toThrow();
        const tooLong = `${longest}x`;
        const refused = expect.objectContaining({ code: ErrorCodes.OPERATION_CONFIG });
        expect(() => names.open({ tablePrefix: tooLong })).toThrow(refused);
        expect(() => names.open({ tablePrefix: 'Not An Identifier' })).toThrow(refused);
        if (names.schemas) expect(() => names.open({ schema: tooLong })).toThrow(refused);
      },
    );
  });
}
