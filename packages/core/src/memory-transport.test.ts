import { describe, expect, it } from 'vitest';
import { until } from '../test/until.js';
import { createEnvelope, envelopeToHeaders, HeaderNames } from './envelope.js';
import { createMemoryTransport } from './memory-transport.js';
import type { Delivery } from './transport.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('memory transport', () => {
  it('survives a delivery handler that throws or rejects, as the other transports do: the delivery stays unsettled until the subscription closes', async () => {
    const transport = createMemoryTransport();
    const type = 'test.Thrown';
    let calls = 0;
    const first = await transport.subscribe({ endpoint: 'thrower', events: [type], commands: [], concurrency: 2 }, (() => {
      calls += 1;
      if (calls === 1) throw new Error('thrown synchronously');
      return Promise.reject(new Error('rejected'));
    }) as () => void);
    for (let i = 0; i < 2; i++) {
      const headers = envelopeToHeaders(createEnvelope({ type, dataversion: 1, source: 'urn:test' }));
      await transport.publish({ route: { kind: 'event', type }, headers, body: new Uint8Array([123, 125]) });
    }
    await sleep(20);
    expect(calls).toBe(2);
    await first.close();
    const redelivered: Delivery[] = [];
    await transport.subscribe({ endpoint: 'thrower', events: [type], commands: [], concurrency: 2 }, async (delivery) => {
      redelivered.push(delivery);
      await delivery.ack();
    });
    await sleep(20);
    expect(redelivered.map((d) => d.attempt)).toEqual([2, 2]);
    expect(new Set(redelivered.map((d) => d.headers[HeaderNames.id])).size).toBe(2);
    await transport.close();
  });

  it('delivers a long backlog in order, and puts the deliveries of a closed subscription back before the rest', async () => {
    const transport = createMemoryTransport();
    const type = 'test.Backlog';
    const total = 3000;
    const held = 2500;
    for (let i = 0; i < total; i++) {
      const headers = envelopeToHeaders(createEnvelope({ type, dataversion: 1, source: 'urn:test' }));
      await transport.publish({ route: { kind: 'command', type, destination: 'backlog' }, headers, body: new TextEncoder().encode(String(i)) });
    }
    const indexOf = (delivery: Delivery) => Number(new TextDecoder().decode(delivery.body));
    const first: number[] = [];
    const firstSubscription = await transport.subscribe({ endpoint: 'backlog', events: [], commands: [type], concurrency: 1 }, async (delivery) => {
      first.push(indexOf(delivery));
      if (indexOf(delivery) < held) await delivery.ack();
    });
    await until(() => first.length === held + 1);
    await firstSubscription.close();
    const second: [number, number][] = [];
    await transport.subscribe({ endpoint: 'backlog', events: [], commands: [type], concurrency: 4 }, async (delivery) => {
      second.push([indexOf(delivery), delivery.attempt]);
      await delivery.ack();
    });
    await until(() => second.length === total - held);
    expect(first).toEqual(Array.from({ length: held + 1 }, (_, i) => i));
    expect(second).toEqual(Array.from({ length: total - held }, (_, i) => [held + i, i === 0 ? 2 : 1]));
    await transport.close();
  });
});
