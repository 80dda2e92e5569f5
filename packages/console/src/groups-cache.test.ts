import { waitUntil } from '@mailroom/conformance';
import {
  createEndpoint,
  createEnvelope,
  createMemoryTransport,
  type DeadLetterFilter,
  defineEvent,
  encodeJson,
  envelopeToHeaders,
  UnrecoverableError,
} from '@mailroom/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { GroupsCache } from './groups-cache.js';

const Failing = defineEvent('cache.Failing', { version: 1, schema: z.object({ n: z.number() }) });

async function poisonedMemoryTransport() {
  const transport = createMemoryTransport();
  const endpoint = createEndpoint({ name: 'cache-test', transport, recoverability: { immediateRetries: 0, delayedRetries: 0 } });
  endpoint.on(Failing, async (data) => {
    throw new UnrecoverableError(`failed ${data.n}`);
  });
  await endpoint.start();
  const poison = async (n: number) =>
    transport.publish({
      route: { kind: 'event', type: Failing.type },
      headers: envelopeToHeaders(createEnvelope({ type: Failing.type, dataversion: 1, source: 'urn:test' })),
      body: encodeJson({ n }),
    });
  return { transport, endpoint, poison };
}

describe('GroupsCache', () => {
  it('serves one snapshot within maxAgeMs, groups afresh when asked or after invalidate', async () => {
    const { transport, endpoint, poison } = await poisonedMemoryTransport();
    let now = 1_000;
    const cache = new GroupsCache(transport.deadLetters, 2_000, () => now);
    await poison(1);
    await waitUntil(async () => (await transport.deadLetters.list()).length === 1, 5_000);
    expect((await cache.get({})).groups[0]?.count).toBe(1);
    await poison(2);
    await waitUntil(async () => (await transport.deadLetters.list()).length === 2, 5_000);
    now += 1_999;
    const young = await cache.get({});
    expect([young.groups[0]?.count, young.refreshing]).toEqual([1, false]);
    expect((await cache.get({}, true)).groups[0]?.count).toBe(2);
    await poison(3);
    await waitUntil(async () => (await transport.deadLetters.list()).length === 3, 5_000);
    cache.invalidate();
    const afterAction = await cache.get({});
    expect([afterAction.groups[0]?.count, afterAction.refreshing]).toEqual([3, false]);
    await endpoint.stop();
    await transport.close();
  });

  it('serves an old snapshot at once and starts one new computation in the background, then serves the new one', async () => {
    const { transport, endpoint, poison } = await poisonedMemoryTransport();
    let now = 1_000;
    // Counts the grouping passes: each starts with a page read without a cursor.
    let passes = 0;
    const counting = {
      page: (filter: DeadLetterFilter) => {
        if (filter.cursor === undefined) passes++;
        return transport.deadLetters.page(filter);
      },
    };
    const cache = new GroupsCache(counting, 2_000, () => now);
    await poison(1);
    await waitUntil(async () => (await transport.deadLetters.list()).length === 1, 5_000);
    await cache.get({});
    await poison(2);
    await waitUntil(async () => (await transport.deadLetters.list()).length === 2, 5_000);
    now += 2_000;
    const [a, b] = await Promise.all([cache.get({}), cache.get({})]);
    for (const old of [a, b]) expect([old.groups[0]?.count, old.refreshing, old.computedAt.getTime()]).toEqual([1, true, 1_000]);
    // The regrouping waits a moment, so the page that asked is answered (and drawn) before it takes the CPU.
    expect(passes).toBe(1);
    await waitUntil(async () => (await cache.get({})).groups[0]?.count === 2, 5_000);
    const renewed = await cache.get({});
    expect([renewed.refreshing, renewed.computedAt.getTime()]).toEqual([false, 3_000]);
    // The first computation and one background computation for both stale reads.
    expect(passes).toBe(2);
    await endpoint.stop();
    await transport.close();
  });

  it('shares one computation between concurrent reads of a cold (or invalidated) cache', async () => {
    const { transport, endpoint, poison } = await poisonedMemoryTransport();
    let passes = 0;
    const counting = {
      page: (filter: DeadLetterFilter) => {
        if (filter.cursor === undefined) passes++;
        return transport.deadLetters.page(filter);
      },
    };
    const cache = new GroupsCache(counting, 60_000);
    await poison(1);
    await waitUntil(async () => (await transport.deadLetters.list()).length === 1, 5_000);
    const cold = await Promise.all([cache.get({}), cache.get({}), cache.get({})]);
    expect(cold.map((snapshot) => snapshot.groups[0]?.count)).toEqual([1, 1, 1]);
    expect(passes).toBe(1);
    cache.invalidate();
    await Promise.all([cache.get({}), cache.get({})]);
    expect(passes).toBe(2);
    await endpoint.stop();
    await transport.close();
  });

  it('does not keep a snapshot computed before an invalidate', async () => {
    const { transport, endpoint, poison } = await poisonedMemoryTransport();
    const cache = new GroupsCache(transport.deadLetters, 60_000);
    await poison(1);
    await waitUntil(async () => (await transport.deadLetters.list()).length === 1, 5_000);
    const before = cache.get({});
    cache.invalidate();
    await poison(2);
    await waitUntil(async () => (await transport.deadLetters.list()).length === 2, 5_000);
    await before;
    expect((await cache.get({})).groups[0]?.count).toBe(2);
    await endpoint.stop();
    await transport.close();
  });

  it('does not keep a failed computation: the next read groups again', async () => {
    const { transport, endpoint, poison } = await poisonedMemoryTransport();
    let failNext = true;
    const flaky = {
      page: (filter: DeadLetterFilter) => {
        if (failNext) {
          failNext = false;
          return Promise.reject(new Error('database unavailable'));
        }
        return transport.deadLetters.page(filter);
      },
    };
    const cache = new GroupsCache(flaky, 60_000);
    await poison(1);
    await waitUntil(async () => (await transport.deadLetters.list()).length === 1, 5_000);
    await expect(cache.get({})).rejects.toThrow('database unavailable');
    expect((await cache.get({})).groups[0]?.count).toBe(1);
    await endpoint.stop();
    await transport.close();
  });
});
