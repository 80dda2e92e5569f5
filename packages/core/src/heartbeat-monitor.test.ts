import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { defineEvent } from './contract.js';
import { createEndpoint, type Endpoint, type EndpointOptions } from './endpoint.js';
import { ErrorCodes } from './errors.js';
import { MailroomHeartbeat } from './heartbeat.js';
import { HeartbeatMonitor } from './heartbeat-monitor.js';
import type { Logger } from './logger.js';
import { createMemoryTransport, MemoryBroker } from './memory-transport.js';
import type { OutgoingMessage, Transport } from './transport.js';

const OrderPlaced = defineEvent('hb.OrderPlaced', { version: 1, schema: z.object({ orderId: z.string() }) });

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const silent: Logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

function rig() {
  const broker = new MemoryBroker();
  const connect = () => {
    const transport = createMemoryTransport({ broker });
    cleanups.push(() => transport.close());
    return transport;
  };
  const endpoint = (options: Omit<EndpointOptions, 'transport'>, transport: Transport = connect()): Endpoint => {
    const made = createEndpoint({ logger: silent, ...options, transport });
    cleanups.push(() => made.stop());
    return made;
  };
  const monitor = async () => {
    const made = new HeartbeatMonitor({ transport: connect(), logger: silent });
    cleanups.push(() => made.stop());
    await made.start();
    return made;
  };
  return { connect, endpoint, monitor };
}

/** Records what reaches the transport, and fails heartbeats when told to. */
function recording(inner: Transport, failHeartbeats = false): { transport: Transport; published: OutgoingMessage[] } {
  const published: OutgoingMessage[] = [];
  const transport: Transport = {
    ...inner,
    subscribe: inner.subscribe.bind(inner),
    queues: inner.queues.bind(inner),
    close: inner.close.bind(inner),
    publish: async (message) => {
      if (failHeartbeats && message.route.type === MailroomHeartbeat.type) throw new Error('broker unreachable');
      published.push(message);
      await inner.publish(message);
    },
  };
  return { transport, published };
}

describe('heartbeats', () => {
  it('shows a started endpoint alive with what it reported, then stale once it stopped', async () => {
    const { endpoint, monitor } = rig();
    const watcher = await monitor();
    const orders = endpoint({ name: 'hb-orders', concurrency: 3, heartbeat: { intervalMs: 100, version: '1.2.3', breakers: () => ({ payments: 'open' }) } });
    orders.on(OrderPlaced, () => undefined);
    await orders.start();
    await vi.waitUntil(() => watcher.instances().some((i) => i.endpoint === 'hb-orders'), { timeout: 5000 });
    const [alive] = watcher.instances();
    expect(alive).toMatchObject({ endpoint: 'hb-orders', status: 'alive', version: '1.2.3', pid: process.pid, concurrency: 3, inFlight: 0, intervalMs: 100 });
    expect(alive?.breakers).toEqual({ payments: 'open' });
    await orders.stop();
    await vi.waitUntil(() => watcher.instances()[0]?.status === 'stale', { timeout: 5000 });
    expect(watcher.instances()).toHaveLength(1);
    // Forgotten after forgetAfterMs (default one hour) without a heartbeat.
    expect(watcher.instances(Date.now() + 3_600_001)).toEqual([]);
    expect(watcher.instances()).toEqual([]);
  });

  it('reports no breakers when breakers() throws, and still beats', async () => {
    const { endpoint, monitor } = rig();
    const watcher = await monitor();
    const flaky = endpoint({
      name: 'hb-flaky',
      heartbeat: {
        intervalMs: 100,
        breakers: () => {
          throw new Error('breaker registry gone');
        },
      },
    });
    await flaky.start();
    await vi.waitUntil(() => watcher.instances().some((i) => i.endpoint === 'hb-flaky'), { timeout: 5000 });
    expect(watcher.instances()[0]).toMatchObject({ status: 'alive', breakers: {} });
  });

  it('ignores a heartbeat already stale when it arrives (a backlog), and ordinary endpoints never receive heartbeats', async () => {
    const { connect, endpoint, monitor } = rig();
    const watcher = await monitor();
    const other = connect();
    const listener = endpoint({ name: 'hb-listener', heartbeat: false }, other);
    listener.on(OrderPlaced, () => undefined);
    await listener.start();
    const publisher = endpoint({ name: 'hb-publisher', heartbeat: false });
    const old = new Date(Date.now() - 60_000).toISOString();
    const beat = {
      endpoint: 'hb-gone',
      instanceId: 'old',
      version: '1',
      host: 'h',
      pid: 1,
      startedAt: old,
      sentAt: old,
      intervalMs: 1000,
      concurrency: 1,
      inFlight: 0,
      breakers: {},
    };
    await publisher.publish(MailroomHeartbeat, beat);
    await publisher.publish(MailroomHeartbeat, { ...beat, endpoint: 'hb-fresh', instanceId: 'fresh', sentAt: new Date().toISOString() });
    await vi.waitUntil(
      async () => watcher.instances().some((i) => i.instanceId === 'fresh') && (await other.queues()).every((q) => q.depth === 0 && !q.inFlight),
      { timeout: 5000 },
    );
    expect(watcher.instances().map((i) => i.instanceId)).toEqual(['fresh']);
    const letters = await other.deadLetters.list();
    expect(letters).toEqual([]);
  });

  it('publishes one heartbeat at start, none when switched off, and a failed one is only a warning', async () => {
    const { connect, endpoint } = rig();
    const on = recording(connect());
    let middlewareCalls = 0;
    const outgoing = async (_ctx: unknown, next: () => Promise<void>) => {
      middlewareCalls++;
      await next();
    };
    const withBeats = endpoint({ name: 'hb-on', middleware: { outgoing: [outgoing] } }, on.transport);
    await withBeats.start();
    await withBeats.stop();
    expect(on.published.map((m) => m.route)).toEqual([{ kind: 'event', type: MailroomHeartbeat.type }]);
    expect(middlewareCalls).toBe(0); // straight to the transport

    const off = recording(connect());
    const without = endpoint({ name: 'hb-off', heartbeat: false }, off.transport);
    await without.start();
    await without.stop();
    expect(off.published).toEqual([]);

    const warnings: string[] = [];
    const logger: Logger = { ...silent, warn: (_obj, msg) => warnings.push(msg ?? ''), child: () => logger };
    const failing = endpoint({ name: 'hb-failing', logger, heartbeat: { intervalMs: 100 } }, recording(connect(), true).transport);
    await failing.start();
    await vi.waitUntil(() => warnings.length >= 2, { timeout: 5000 });
    expect(failing.running).toBe(true);
    expect(warnings[0]).toBe('could not publish a heartbeat');
  });

  it('fails fast on a bad heartbeat option', () => {
    const transport = createMemoryTransport();
    cleanups.push(() => transport.close());
    expect(() => createEndpoint({ name: 'hb-bad', transport, heartbeat: { intervalMs: 50 } })).toThrow(
      expect.objectContaining({ code: ErrorCodes.ENDPOINT_CONFIG, message: expect.stringContaining('heartbeat.intervalMs must be a number >= 100, got 50') }),
    );
    expect(() => createEndpoint({ name: 'hb-bad', transport, heartbeat: 'yes' as never })).toThrow(
      expect.objectContaining({ code: ErrorCodes.ENDPOINT_CONFIG }),
    );
    expect(() => new HeartbeatMonitor({ transport, forgetAfterMs: 0 })).toThrow(expect.objectContaining({ code: ErrorCodes.ENDPOINT_CONFIG }));
  });
});
