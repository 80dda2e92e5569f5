import {
  createEnvelope,
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterQueue,
  type ErrorCode,
  ErrorCodes,
  envelopeToHeaders,
  isMailroomError,
  type Transport,
} from '@mailroom/core';
import { expect } from 'vitest';
import { pollFor, type Scope, sleep, uniqueName } from './helpers.js';

/** What the paging tests need from the transport suite. */
export interface PagingSuiteContext {
  /** Scales a waiting time for slow brokers. */
  readonly ms: (n: number) => number;
}

/** An endpoint whose every delivery is dead-lettered at once, with a way to add letters and wait for them. */
interface Poisoned {
  readonly endpoint: string;
  /** Publishes one message per type given and resolves once the endpoint holds `expected` dead letters in all. */
  add(types: readonly string[], expected: number): Promise<DeadLetter[]>;
}

async function poisonedEndpoint(transport: Transport, types: readonly string[], context: PagingSuiteContext): Promise<Poisoned> {
  const endpoint = uniqueName('dlpage');
  await transport.subscribe({ endpoint, events: [...types], commands: [], concurrency: 1 }, async (d) => {
    await d.deadLetter({
      reason: ErrorCodes.HANDLER_FAILED,
      errorMessage: 'paging test',
      attempts: d.attempt,
      firstFailureAt: new Date(),
      lastFailureAt: new Date(),
    });
  });
  return {
    endpoint,
    async add(toPublish, expected) {
      for (const type of toPublish) {
        const envelope = createEnvelope({ type, dataversion: 1, source: 'urn:mailroom:conformance' });
        await transport.publish({ route: { kind: 'event', type }, headers: envelopeToHeaders(envelope), body: new TextEncoder().encode('{}') });
        // Letters a little apart in time, so orders by time are visible (ties are ordered by id).
        await sleep(2);
      }
      return pollFor(
        () => transport.deadLetters.list({ endpoint }),
        (letters) => letters.length === expected,
        context.ms(15_000),
        (letters) => `${letters.length} dead letters, waiting for ${expected}`,
      );
    },
  };
}

/** Every page from the first to the last, calling `between` after each page but the last. */
async function walk(queue: DeadLetterQueue, filter: DeadLetterFilter, between: () => Promise<void> = async () => {}): Promise<DeadLetter[][]> {
  const pages: DeadLetter[][] = [];
  let cursor: string | undefined;
  do {
    const page = await queue.page(cursor === undefined ? filter : { ...filter, cursor });
    pages.push(page.letters);
    cursor = page.nextCursor;
    if (cursor !== undefined) await between();
    if (pages.length > 1000) throw new Error('the cursor walk does not end');
  } while (cursor !== undefined);
  return pages;
}

const ids = (letters: readonly DeadLetter[]) => letters.map((letter) => letter.id);
const times = (letters: readonly DeadLetter[]) => letters.map((letter) => letter.deadLetteredAt.getTime());
const sortedUp = (values: readonly number[]) => values.every((value, i) => i === 0 || (values[i - 1] as number) <= value);
const sortedDown = (values: readonly number[]) => values.every((value, i) => i === 0 || (values[i - 1] as number) >= value);

function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  return expect(promise).rejects.toSatisfy((error) => isMailroomError(error, code));
}

/** Pages both ways: sizes, order by time, every letter once, `list` and `page` agree. */
export async function runPagingOrder(scope: Scope, context: PagingSuiteContext): Promise<void> {
  const transport = await scope.connectAdmin();
  const type = uniqueName('Paged');
  const poisoned = await poisonedEndpoint(transport, [type], context);
  const all = await poisoned.add(
    Array.from({ length: 7 }, () => type),
    7,
  );
  expect(sortedUp(times(all))).toBe(true);

  const whole = await transport.deadLetters.page({ endpoint: poisoned.endpoint });
  expect(ids(whole.letters)).toEqual(ids(all));
  expect(whole.nextCursor).toBeUndefined();

  const oldest = await walk(transport.deadLetters, { endpoint: poisoned.endpoint, limit: 3 });
  expect(oldest.map((page) => page.length)).toEqual([3, 3, 1]);
  expect(ids(oldest.flat())).toEqual(ids(all));

  const newest = await walk(transport.deadLetters, { endpoint: poisoned.endpoint, limit: 3, order: 'newest-first' });
  expect(newest.map((page) => page.length)).toEqual([3, 3, 1]);
  expect(ids(newest.flat())).toEqual(ids(all).reverse());
  expect(sortedDown(times(newest.flat()))).toBe(true);
  expect(ids(await transport.deadLetters.list({ endpoint: poisoned.endpoint, order: 'newest-first' }))).toEqual(ids(all).reverse());

  // A page exactly as large as what is left has no next cursor.
  const exact = await transport.deadLetters.page({ endpoint: poisoned.endpoint, limit: 7 });
  expect(exact.letters.length).toBe(7);
  expect(exact.nextCursor).toBeUndefined();
}

/** A cursor walk returns every letter that was there at the start exactly once while letters are added between pages. */
export async function runPagingUnderInserts(scope: Scope, context: PagingSuiteContext): Promise<void> {
  const transport = await scope.connectAdmin();
  const type = uniqueName('Growing');
  const poisoned = await poisonedEndpoint(transport, [type], context);
  let count = 6;
  const initial = ids(
    await poisoned.add(
      Array.from({ length: count }, () => type),
      count,
    ),
  );
  const addOne = async () => {
    count += 1;
    await poisoned.add([type], count);
  };
  for (const order of ['oldest-first', 'newest-first'] as const) {
    const seen = ids((await walk(transport.deadLetters, { endpoint: poisoned.endpoint, limit: 2, order }, addOne)).flat());
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of initial) expect(seen).toContain(id);
  }
}

/** Endpoint, type, since, before and ids combine, in `page`, `list` and `purge` alike. */
export async function runPagingFilters(scope: Scope, context: PagingSuiteContext): Promise<void> {
  const transport = await scope.connectAdmin();
  const red = uniqueName('Red');
  const blue = uniqueName('Blue');
  const poisoned = await poisonedEndpoint(transport, [red, blue], context);
  const early = await poisoned.add([red, blue, red, blue], 4);
  await sleep(context.ms(50));
  const all = await poisoned.add([red, blue, red], 7);
  const late = all.filter((letter) => !early.some((e) => e.id === letter.id));
  const cutoff = new Date(Math.min(...times(late)));
  expect(Math.max(...times(early))).toBeLessThan(cutoff.getTime());
  const { endpoint } = poisoned;
  const expectPage = async (filter: DeadLetterFilter, expected: readonly DeadLetter[]) => {
    const page = await transport.deadLetters.page({ ...filter, limit: 1000 });
    expect(ids(page.letters)).toEqual(ids(expected));
    expect(ids(await transport.deadLetters.list(filter))).toEqual(ids(expected));
  };
  await expectPage(
    { endpoint, type: red, before: cutoff },
    early.filter((l) => l.type === red),
  );
  await expectPage(
    { endpoint, type: blue, since: cutoff },
    late.filter((l) => l.type === blue),
  );
  await expectPage({ endpoint, before: cutoff }, early);
  await expectPage(
    { endpoint, since: cutoff, before: new Date(cutoff.getTime() + 1) },
    late.filter((l) => l.deadLetteredAt.getTime() === cutoff.getTime()),
  );
  const chosen = [all[0] as DeadLetter, all[5] as DeadLetter];
  await expectPage({ endpoint, ids: ids(chosen) }, chosen);
  await expectPage(
    { endpoint, ids: ids(chosen), type: red },
    chosen.filter((l) => l.type === red),
  );
  await expectPage({ endpoint: uniqueName('elsewhere'), type: red }, []);
  const blueWalk = await walk(transport.deadLetters, { endpoint, type: blue, limit: 1, order: 'newest-first' });
  expect(ids(blueWalk.flat())).toEqual(ids(all.filter((l) => l.type === blue)).reverse());

  expect(await transport.deadLetters.purge({ endpoint, before: cutoff })).toBe(early.length);
  expect(ids(await transport.deadLetters.list({ endpoint }))).toEqual(ids(late));
}

/** A malformed or foreign cursor and invalid filter values throw typed errors. */
export async function runPagingErrors(scope: Scope, context: PagingSuiteContext): Promise<void> {
  const transport = await scope.connectAdmin();
  const type = uniqueName('Bad');
  const poisoned = await poisonedEndpoint(transport, [type], context);
  await poisoned.add([type, type], 2);
  const queue = transport.deadLetters;
  const { endpoint } = poisoned;
  const first = await queue.page({ endpoint, limit: 1 });
  expect(first.nextCursor).toBeDefined();
  const cursor = first.nextCursor as string;
  for (const bad of ['', 'not a cursor!', Buffer.from('{"position":1}').toString('base64url'), cursor.slice(0, -3)])
    await rejectsWith(queue.page({ endpoint, cursor: bad }), ErrorCodes.DEAD_LETTER_CURSOR_INVALID);
  await rejectsWith(queue.page({ endpoint, cursor, order: 'newest-first' }), ErrorCodes.DEAD_LETTER_CURSOR_INVALID);
  for (const limit of [0, -1, 1001, 1.5, Number.NaN]) await rejectsWith(queue.page({ endpoint, limit }), ErrorCodes.DEAD_LETTER_FILTER_INVALID);
  await rejectsWith(queue.page({ endpoint, since: new Date(Number.NaN) }), ErrorCodes.DEAD_LETTER_FILTER_INVALID);
  await rejectsWith(queue.page({ endpoint, before: 'yesterday' as unknown as Date }), ErrorCodes.DEAD_LETTER_FILTER_INVALID);
  await rejectsWith(queue.page({ endpoint, order: 'sideways' as never }), ErrorCodes.DEAD_LETTER_FILTER_INVALID);
  await rejectsWith(queue.list({ endpoint, order: 'sideways' as never }), ErrorCodes.DEAD_LETTER_FILTER_INVALID);
  await rejectsWith(queue.purge({ endpoint, before: new Date(Number.NaN) }), ErrorCodes.DEAD_LETTER_FILTER_INVALID);
  // Nothing was purged by the rejected call, and the cursor still works.
  const second = await queue.page({ endpoint, limit: 1, cursor });
  expect(second.letters.length).toBe(1);
  expect(second.nextCursor).toBeUndefined();
}
