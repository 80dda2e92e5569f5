import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { until } from '../test/until.js';
import { defineEvent } from './contract.js';
import { createEndpoint } from './endpoint.js';
import { ErrorCodes } from './errors.js';
import { createMemoryTransport, MemoryBroker } from './memory-transport.js';
import { messageOnly } from './testing/message-only.js';
import type { MessageTransport } from './transport.js';
import { hasTransportAdmin, transportAdmin } from './transport-admin.js';

const Ping = defineEvent('admin.Ping', { version: 1, schema: z.object({ n: z.number() }) });

describe('transportAdmin', () => {
  it('is the transport itself when it has dead letters and queues, undefined when it only moves messages', async () => {
    const transport = createMemoryTransport();
    expect(transportAdmin(transport)).toBe(transport);
    expect(hasTransportAdmin(transport)).toBe(true);
    const bare = messageOnly(transport);
    expect(transportAdmin(bare)).toBeUndefined();
    expect(hasTransportAdmin(bare)).toBe(false);
    expect(transportAdmin({ ...bare, queues: async () => [] } as MessageTransport)).toBeUndefined();
    await transport.close();
  });

  it('an endpoint on a transport without the management part handles, retries and dead-letters as on the full one', async () => {
    const broker = new MemoryBroker();
    const full = createMemoryTransport({ broker });
    const handled: number[] = [];
    const endpoint = createEndpoint({
      name: 'admin-less',
      transport: messageOnly(createMemoryTransport({ broker })),
      recoverability: { immediateRetries: 1, delayedRetries: 0 },
    }).on(Ping, ({ n }) => {
      handled.push(n);
      if (n < 0) throw new Error('negative');
    });
    await endpoint.start();
    const producer = createEndpoint({ name: 'admin-producer', transport: full });
    await producer.publish(Ping, { n: 1 });
    await producer.publish(Ping, { n: -1 });
    await until(async () => (await full.deadLetters.list({ endpoint: 'admin-less' })).length > 0);
    const [letter, ...more] = await full.deadLetters.list({ endpoint: 'admin-less' });
    expect(more).toEqual([]);
    expect(letter).toMatchObject({ reason: ErrorCodes.HANDLER_FAILED, attempts: 2 });
    expect(handled.sort()).toEqual([-1, -1, 1]);
    expect(await endpoint.health()).toMatchObject({ healthy: true });
    await endpoint.stop();
    await producer.stop();
    await full.close();
  });
});
