import { waitUntil } from '@mailroom/conformance';
import { createEndpoint, createEnvelope, createMemoryTransport, defineEvent, encodeJson, envelopeToHeaders, UnrecoverableError } from '@mailroom/core';
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
  it('serves one snapshot within maxAgeMs, groups afresh when asked, when older, or after invalidate', async () => {
    const { transport, endpoint, poison } = await poisonedMemoryTransport();
    let now = 1_000;
    const cache = new GroupsCache(transport.deadLetters, 2_000, () => now);
    await poison(1);
    await waitUntil(async () => (await transport.deadLetters.list()).length === 1, 5_000);
    expect((await cache.get({})).groups[0]?.count).toBe(1);
    await poison(2);
    await waitUntil(async () => (await transport.deadLetters.list()).length === 2, 5_000);
    now += 1_999;
    expect((await cache.get({})).groups[0]?.count).toBe(1);
    expect((await cache.get({}, true)).groups[0]?.count).toBe(2);
    await poison(3);
    await waitUntil(async () => (await transport.deadLetters.list()).length === 3, 5_000);
    cache.invalidate();
    expect((await cache.get({})).groups[0]?.count).toBe(3);
    await poison(4);
    await waitUntil(async () => (await transport.deadLetters.list()).length === 4, 5_000);
    now += 2_000;
    const snapshot = await cache.get({});
    expect(snapshot.groups[0]?.count).toBe(4);
    expect(snapshot.computedAt.getTime()).toBe(now);
    await endpoint.stop();
    await transport.close();
  });
});
