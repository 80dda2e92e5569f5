import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { groupDeadLetterQueue, groupDeadLetters } from './dead-letter-groups.js';
import { ErrorCodes } from './errors.js';
import { failureFingerprint } from './failure-fingerprint.js';
import { pageDeadLetters } from './internal/dead-letter-paging.js';
import type { DeadLetter, DeadLetterFilter } from './transport.js';

const kinds = [
  { reason: ErrorCodes.HANDLER_FAILED, message: (n: number) => `Out of stock for sku ${n}`, stack: 'Error\n    at reserve (/srv/stock/dist/reserve.js:1:1)' },
  { reason: ErrorCodes.HANDLER_FAILED, message: (n: number) => `Card ${n} declined`, stack: 'Error\n    at charge (/srv/billing/dist/charge.js:9:9)' },
  { reason: ErrorCodes.CONTRACT_VALIDATION, message: (n: number) => `Field "total" must be >= ${n}`, stack: undefined },
] as const;

function letter(id: number, kind: number, at: number, endpoint: string, type: string): DeadLetter {
  const k = kinds[kind] as (typeof kinds)[number];
  const date = new Date(at);
  return {
    id: String(id),
    endpoint,
    messageId: `m${id}`,
    type,
    headers: {},
    body: new Uint8Array(),
    reason: k.reason,
    errorMessage: k.message(id * 7),
    errorStack: k.stack,
    attempts: 1,
    firstFailureAt: date,
    lastFailureAt: date,
    deadLetteredAt: date,
  };
}

const letters = fc
  .uniqueArray(
    fc.record({
      id: fc.nat(10_000),
      kind: fc.integer({ min: 0, max: 2 }),
      at: fc.integer({ min: 0, max: 1000 }),
      endpoint: fc.constantFrom('orders', 'billing'),
      type: fc.constantFrom('OrderPlaced', 'PaymentTaken', 'StockReserved'),
    }),
    { selector: (r) => r.id, maxLength: 80 },
  )
  .map((rows) => rows.map((r) => letter(r.id, r.kind, r.at, r.endpoint, r.type)));

describe('grouping dead letters', () => {
  it('puts letters that failed the same way in one group, with counts, times, endpoints, types and a sample', () => {
    const all = [letter(1, 0, 10, 'stock', 'A'), letter(2, 0, 30, 'stock', 'B'), letter(3, 1, 20, 'billing', 'A'), letter(4, 0, 5, 'orders', 'A')];
    const groups = groupDeadLetters(all);
    expect(groups.map((g) => g.count)).toEqual([3, 1]);
    const [stock, billing] = groups;
    expect(stock).toMatchObject({
      fingerprint: failureFingerprint(all[0] as DeadLetter),
      reason: ErrorCodes.HANDLER_FAILED,
      message: 'Out of stock for sku <n>',
      topFrame: 'reserve (stock/dist/reserve.js)',
      firstSeen: new Date(5),
      lastSeen: new Date(30),
      endpoints: ['orders', 'stock'],
      types: ['A', 'B'],
      sampleId: '2',
    });
    expect(billing?.sampleId).toBe('3');
  });

  it('counts every letter once, sorts by last seen, and does not depend on input order (property)', () => {
    fc.assert(
      fc.property(letters, (all) => {
        const groups = groupDeadLetters(all);
        expect(groups.reduce((sum, g) => sum + g.count, 0)).toBe(all.length);
        expect(new Set(groups.map((g) => g.fingerprint)).size).toBe(groups.length);
        for (let i = 1; i < groups.length; i++) expect((groups[i - 1] as { lastSeen: Date }).lastSeen >= (groups[i] as { lastSeen: Date }).lastSeen).toBe(true);
        const strip = (g: ReturnType<typeof groupDeadLetters>) => g.map(({ sampleId: _s, ...rest }) => rest);
        expect(strip(groupDeadLetters([...all].reverse()))).toEqual(strip(groups));
        for (const g of groups) expect(g.firstSeen.getTime()).toBeLessThanOrEqual(g.lastSeen.getTime());
      }),
    );
  });

  it('groups a queue page by page, as the letters all at once (property)', async () => {
    await fc.assert(
      fc.asyncProperty(letters, async (all) => {
        let pages = 0;
        const queue = {
          page: async (filter: DeadLetterFilter) => {
            pages += 1;
            // Pages of 7 rather than 1000, so the walk crosses pages.
            return pageDeadLetters(all, { ...filter, limit: Math.min(filter.limit ?? 7, 7) }, 'test');
          },
        };
        const strip = (g: ReturnType<typeof groupDeadLetters>) => g.map(({ sampleId: _s, ...rest }) => rest);
        expect(strip(await groupDeadLetterQueue(queue))).toEqual(strip(groupDeadLetters(all)));
        expect(pages).toBe(Math.max(1, Math.ceil(all.length / 7)));
        const orders = await groupDeadLetterQueue(queue, { endpoint: 'orders' });
        expect(strip(orders)).toEqual(strip(groupDeadLetters(all.filter((l) => l.endpoint === 'orders'))));
      }),
    );
  });

  it('lets the event loop run between pages, even over a store that answers synchronously', async () => {
    const all = Array.from({ length: 30 }, (_, i) => letter(i, i % 3, 1_700_000_000_000 + i, 'orders', 'shop.OrderPlaced'));
    let pagesRead = 0;
    const queue = {
      page: async (filter: DeadLetterFilter) => {
        pagesRead += 1;
        return pageDeadLetters(all, { ...filter, limit: 10 }, 'test');
      },
    };
    let pagesReadWhenOtherWorkRan: number | undefined;
    setImmediate(() => {
      pagesReadWhenOtherWorkRan = pagesRead;
    });
    await groupDeadLetterQueue(queue);
    expect(pagesRead).toBe(3);
    // The callback waiting in the event loop ran while the grouping was between pages, not after it.
    expect(pagesReadWhenOtherWorkRan).toBeLessThan(3);
  });
});
