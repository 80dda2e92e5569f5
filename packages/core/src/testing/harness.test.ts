import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineEvent } from '../contract.js';
import { ErrorCodes } from '../errors.js';
import { createMemoryTransport } from '../memory-transport.js';
import { createTestHarness, type TestHarness } from './harness.js';

const OrderPlaced = defineEvent('harness.OrderPlaced', { version: 1, schema: z.object({ orderId: z.string() }) });
const OrderConfirmed = defineEvent('harness.OrderConfirmed', { version: 1, schema: z.object({ orderId: z.string() }) });

let harness: TestHarness;
afterEach(async () => {
  await harness.stop();
});

describe('test harness', () => {
  it('creates endpoints without heartbeats unless asked, so published holds only the system under test', async () => {
    harness = createTestHarness();
    const quiet = await harness.endpoint({ name: 'quiet' });
    await quiet.start();
    await quiet.stop();
    expect(harness.published).toEqual([]);
    const beating = await harness.endpoint({ name: 'beating', heartbeat: {} });
    await beating.start();
    await beating.stop();
    expect(harness.published.map((r) => r.envelope.type)).toEqual(['mailroom.endpoint.heartbeat']);
  });

  it('advances a fake clock: scheduled messages and delayed retries come at once, and delays count from the new time', async () => {
    harness = createTestHarness();
    const shop = await harness.endpoint({ name: 'shop' });
    shop.on(OrderConfirmed, () => undefined);
    const reminders = await harness.endpoint({
      name: 'reminders',
      recoverability: { immediateRetries: 0, delayedRetries: 1, initialDelayMs: 600_000, maxDelayMs: 600_000, jitter: 0 },
    });
    let failures = 0;
    reminders.on(OrderPlaced, async (m, ctx) => {
      if (m.orderId === 'flaky' && failures++ === 0) throw new Error('first attempt fails');
      // A timeout scheduled from a handler: an hour after the (fake) time it was handled.
      if (m.orderId !== 'flaky') await ctx.publish(OrderConfirmed, { orderId: m.orderId }, { delayMs: 3_600_000 });
    });
    await harness.start();
    const scheduled = await shop.publish(OrderPlaced, { orderId: 'o-1' }, { delayMs: 24 * 3_600_000 });
    await shop.publish(OrderPlaced, { orderId: 'flaky' });
    await harness.waitFor(OrderPlaced, { on: 'handled', where: (r) => r.data.orderId === 'flaky', timeout: 50 }).then(
      () => expect.fail('the delayed retry came before its delay'),
      () => undefined,
    );
    harness.advanceTime(600_000);
    await harness.waitFor(OrderPlaced, { on: 'handled', where: (r) => r.data.orderId === 'flaky' });
    expect(harness.handled.some((r) => r.envelope.id === scheduled.id)).toBe(false);
    harness.advanceTime(24 * 3_600_000);
    await harness.waitFor(OrderPlaced, { on: 'handled', where: (r) => r.envelope.id === scheduled.id });
    await harness.waitFor(OrderConfirmed, { on: 'published' });
    harness.advanceTime(3_599_000);
    await expect(harness.waitFor(OrderConfirmed, { on: 'handled', timeout: 50 })).rejects.toMatchObject({ code: ErrorCodes.TESTING_TIMEOUT });
    harness.advanceTime(1000);
    await harness.waitFor(OrderConfirmed, { on: 'handled' });
  });

  it('cancels a scheduled message on the memory transport, and refuses advanceTime on a transport of its own or backwards', async () => {
    harness = createTestHarness();
    const shop = await harness.endpoint({ name: 'shop' });
    const seen: string[] = [];
    const audit = await harness.endpoint({ name: 'audit' });
    audit.on(OrderPlaced, (m) => {
      seen.push(m.orderId);
    });
    await harness.start();
    const cancelled = await shop.publish(OrderPlaced, { orderId: 'cancelled' }, { delayMs: 60_000 });
    await shop.publish(OrderPlaced, { orderId: 'kept' }, { delayMs: 120_000 });
    expect(await shop.cancelScheduled(cancelled.id)).toBe(true);
    expect(await shop.cancelScheduled(cancelled.id)).toBe(false);
    harness.advanceTime(120_000);
    await harness.waitFor(OrderPlaced, { on: 'handled', where: (r) => r.data.orderId === 'kept' });
    expect(seen).toEqual(['kept']);
    expect(() => harness.advanceTime(-1)).toThrow(expect.objectContaining({ code: ErrorCodes.SCHEDULE_INVALID }));
    const own = createTestHarness({ transport: () => createMemoryTransport() });
    expect(() => own.advanceTime(1000)).toThrow(expect.objectContaining({ code: ErrorCodes.TRANSPORT_UNSUPPORTED }));
    await own.stop();
  });

  it('runs several endpoints and waits for a message of a process by correlation id', async () => {
    harness = createTestHarness();
    const shop = await harness.endpoint({ name: 'shop' });
    const confirmations = await harness.endpoint({ name: 'confirmations' });
    confirmations.on(OrderPlaced, async (m, ctx) => {
      await ctx.publish(OrderConfirmed, { orderId: m.orderId });
    });
    await harness.start();
    const { correlationid } = await shop.publish(OrderPlaced, { orderId: 'o-1' });
    const confirmed = await harness.waitFor(OrderConfirmed, { correlationId: correlationid });
    expect(confirmed.data).toEqual({ orderId: 'o-1' });
    await expect(harness.waitFor(OrderConfirmed, { correlationId: 'other', timeout: 50 })).rejects.toMatchObject({ code: ErrorCodes.TESTING_TIMEOUT });
    expect(harness.handled.map((r) => `${r.envelope.type}@${r.endpoint}`)).toContain('harness.OrderPlaced@confirmations');
  });

  it('duplicates deliveries, so a non-idempotent handler is caught and an idempotent one proven', async () => {
    harness = createTestHarness();
    const shop = await harness.endpoint({ name: 'shop' });
    const counter = await harness.endpoint({ name: 'counter' });
    const naive: string[] = [];
    const seen = new Set<string>();
    counter.on(OrderPlaced, async (m, ctx) => {
      naive.push(m.orderId);
      seen.add(ctx.envelope.id);
    });
    harness.faults.duplicate({ type: OrderPlaced, copies: 2 });
    await harness.start();
    await shop.publish(OrderPlaced, { orderId: 'o-1' });
    await harness.waitFor(OrderPlaced, { on: 'handled', where: () => naive.length === 3 });
    expect(naive).toEqual(['o-1', 'o-1', 'o-1']);
    expect(seen.size).toBe(1);
  });

  it('fails a delivery N times before the handler, through recoverability', async () => {
    harness = createTestHarness();
    const shop = await harness.endpoint({ name: 'shop' });
    const flaky = await harness.endpoint({ name: 'flaky', recoverability: { immediateRetries: 3, delayedRetries: 0 } });
    const attempts: number[] = [];
    flaky.on(OrderPlaced, async (_m, ctx) => void attempts.push(ctx.attempt));
    harness.faults.fail({ type: OrderPlaced, endpoint: 'flaky', times: 2 });
    await harness.start();
    await shop.publish(OrderPlaced, { orderId: 'o-1' });
    await harness.waitFor(OrderPlaced, { on: 'handled', endpoint: 'flaky' });
    expect(attempts).toEqual([3]);
  });

  it('records dead letters with their reason, including a fault that outlasts the retries', async () => {
    harness = createTestHarness();
    const shop = await harness.endpoint({ name: 'shop' });
    const broken = await harness.endpoint({ name: 'broken', recoverability: { immediateRetries: 1, delayedRetries: 0 } });
    broken.on(OrderPlaced, async () => undefined);
    harness.faults.fail({ type: OrderPlaced, times: 5 });
    await harness.start();
    await shop.publish(OrderPlaced, { orderId: 'o-1' });
    const letter = await harness.waitFor(OrderPlaced, { on: 'dead-lettered' });
    expect(letter).toMatchObject({ endpoint: 'broken', reason: ErrorCodes.HANDLER_FAILED });
  });

  it('reorders and delays messages', async () => {
    harness = createTestHarness();
    const shop = await harness.endpoint({ name: 'shop' });
    const sink = await harness.endpoint({ name: 'sink', concurrency: 1 });
    const order: string[] = [];
    sink.on(OrderPlaced, async (m) => void order.push(m.orderId));
    harness.faults.reorder({ type: OrderPlaced, window: 3 });
    await harness.start();
    await Promise.all(['a', 'b', 'c'].map((orderId) => shop.publish(OrderPlaced, { orderId })));
    await harness.waitFor(OrderPlaced, { on: 'handled', where: () => order.length === 3 });
    expect(order).toEqual(['c', 'b', 'a']);

    harness.faults.clear();
    harness.faults.delay({ type: OrderPlaced, ms: 120 });
    const before = performance.now();
    await shop.publish(OrderPlaced, { orderId: 'late' });
    await harness.waitFor(OrderPlaced, { on: 'handled', where: (r) => r.data.orderId === 'late' });
    expect(performance.now() - before).toBeGreaterThanOrEqual(119);
  });
});
