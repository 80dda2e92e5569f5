import { createEndpoint, createMemoryTransport, defineEvent } from '@mailroom/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

describe('smoke', () => {
  it('round trips', async () => {
    const Ping = defineEvent('Ping', { version: 1, schema: z.object({ n: z.number() }) });
    const transport = createMemoryTransport();
    const a = createEndpoint({ name: 'a', transport });
    const got: number[] = [];
    a.on(Ping, async (m) => {
      got.push(m.n);
    });
    await a.start();
    await a.publish(Ping, { n: 1 });
    await new Promise((r) => setTimeout(r, 20));
    expect(got).toEqual([1]);
    await a.stop();
  });
});
