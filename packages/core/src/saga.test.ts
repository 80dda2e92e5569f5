import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineCommand, defineEvent } from './contract.js';
import { createEndpoint } from './endpoint.js';
import { ErrorCodes, isMailroomError } from './errors.js';
import { createMemoryTransport } from './memory-transport.js';
import { defineSaga } from './saga.js';
import { createMemorySagaStore, type SagaStore } from './saga-store.js';
import { createTestHarness, type TestHarness } from './testing/harness.js';
import type { MessageTransport } from './transport.js';

const OrderPlaced = defineEvent('saga-test.OrderPlaced', { version: 1, schema: z.object({ orderId: z.string(), total: z.number() }) });
const PaymentSucceeded = defineEvent('saga-test.PaymentSucceeded', { version: 1, schema: z.object({ orderId: z.string() }) });
const ItemAdded = defineEvent('saga-test.ItemAdded', { version: 1, schema: z.object({ orderId: z.string(), sku: z.string() }) });
const ShipOrder = defineCommand('saga-test.ShipOrder', { version: 1, owner: 'shipping', schema: z.object({ orderId: z.string() }) });

const orderSaga = defineSaga({
  name: 'order-test',
  startedBy: [OrderPlaced],
  handles: [PaymentSucceeded, ItemAdded],
  correlateBy: {
    'saga-test.OrderPlaced': (m) => m.orderId,
    'saga-test.PaymentSucceeded': (m) => m.orderId,
    'saga-test.ItemAdded': (m) => m.orderId,
  },
  state: z.object({ orderId: z.string(), total: z.number(), paid: z.boolean(), items: z.array(z.string()) }),
  initial: (m) => ({ orderId: m.orderId, total: m.total, paid: false, items: [] as string[] }),
  handlers: {
    'saga-test.OrderPlaced': () => undefined,
    'saga-test.PaymentSucceeded': async (state, _m, ctx) => {
      await ctx.send(ShipOrder, { orderId: state.orderId });
      ctx.complete();
      return { ...state, paid: true };
    },
    'saga-test.ItemAdded': (state, m) => {
      state.items.push(m.sku);
    },
  },
});

let harness: TestHarness;
afterEach(async () => {
  await harness?.stop();
});

async function setUp(store: SagaStore<unknown> = createMemorySagaStore()) {
  harness = createTestHarness();
  const orders = await harness.endpoint({ name: 'orders', recoverability: { immediateRetries: 3, delayedRetries: 0 } });
  orders.saga(orderSaga, { store });
  const shipping = await harness.endpoint({ name: 'shipping' });
  shipping.on(ShipOrder, () => undefined);
  await harness.start();
  return { orders, store };
}

describe('sagas on the memory transport', () => {
  it('starts an instance, keeps its typed state, sends through the context, and ignores messages after completion', async () => {
    const { orders, store } = await setUp();
    await orders.publish(OrderPlaced, { orderId: 'o-1', total: 10 });
    await harness.waitFor(OrderPlaced, { on: 'handled', endpoint: 'orders' });
    await orders.publish(ItemAdded, { orderId: 'o-1', sku: 'tea' });
    await harness.waitFor(ItemAdded, { on: 'handled', endpoint: 'orders' });
    await orders.publish(PaymentSucceeded, { orderId: 'o-1' });
    await harness.waitFor(ShipOrder, { on: 'handled', endpoint: 'shipping' });
    const stored = await store.load(undefined, 'order-test', 'o-1');
    expect(stored?.state).toEqual({ orderId: 'o-1', total: 10, paid: true, items: ['tea'] });
    expect(stored?.version).toBe(3);
    expect(stored?.completedAt).toBeInstanceOf(Date);
    // After completion: acknowledged, no state change, nothing dead-lettered.
    await orders.publish(ItemAdded, { orderId: 'o-1', sku: 'late' });
    await harness.waitFor(ItemAdded, { on: 'handled', endpoint: 'orders', where: (r) => r.data.sku === 'late' });
    expect((await store.load(undefined, 'order-test', 'o-1'))?.version).toBe(3);
    expect(harness.deadLettered).toEqual([]);
  });

  it('dead-letters a message that correlates to no instance and starts none with MAILROOM_ERR_SAGA_NOT_STARTED, or ignores it when told', async () => {
    const { orders } = await setUp();
    await orders.publish(PaymentSucceeded, { orderId: 'nobody' });
    const dead = await harness.waitFor(PaymentSucceeded, { on: 'dead-lettered' });
    expect(dead.reason).toBe(ErrorCodes.SAGA_NOT_STARTED);
    await harness.stop();

    harness = createTestHarness();
    const lenient = await harness.endpoint({ name: 'lenient' });
    lenient.saga(defineSaga({ ...orderSagaDefinition(), onNotStarted: 'ignore' }), { store: createMemorySagaStore() });
    await harness.start();
    await lenient.publish(PaymentSucceeded, { orderId: 'nobody' });
    await harness.waitFor(PaymentSucceeded, { on: 'handled', endpoint: 'lenient' });
    expect(harness.deadLettered).toEqual([]);
  });

  it("with onNotStarted: 'retry', a message that overtook its instance's start is retried and applies once the instance started", async () => {
    const store = createMemorySagaStore();
    harness = createTestHarness();
    const orders = await harness.endpoint({ name: 'patient', recoverability: { immediateRetries: 0, delayedRetries: 5, initialDelayMs: 50 } });
    orders.saga(defineSaga({ ...orderSagaDefinition(), name: 'patient-test', onNotStarted: 'retry' }), { store });
    let failed: (code: unknown) => void = () => undefined;
    const firstFailure = new Promise<unknown>((resolve) => {
      failed = resolve;
    });
    orders.use({
      incoming: async (_ctx, next) => {
        await next().catch((error: unknown) => {
          failed((error as { code?: unknown }).code);
          throw error;
        });
      },
    });
    await harness.start();
    await orders.publish(ItemAdded, { orderId: 'early', sku: 'tea' });
    expect(await firstFailure).toBe(ErrorCodes.SAGA_NOT_STARTED);
    await orders.publish(OrderPlaced, { orderId: 'early', total: 1 });
    await harness.waitFor(ItemAdded, { on: 'handled', endpoint: 'patient' });
    expect((await store.load(undefined, 'patient-test', 'early'))?.version).toBe(2);
    expect(harness.deadLettered).toEqual([]);
  });

  it('two messages for one instance at once: one commits, the other gets MAILROOM_ERR_SAGA_CONFLICT, is retried and applies on the fresh state', async () => {
    const store = createMemorySagaStore();
    // Both handlers load version 1 before either saves: the barrier opens once two loads happened.
    let loads = 0;
    let open: () => void = () => undefined;
    const barrier = new Promise<void>((resolve) => {
      open = resolve;
    });
    const gated: SagaStore<unknown> = {
      ...store,
      load: async (tx, saga, key) => {
        const stored = await store.load(tx, saga, key);
        if (stored && ++loads === 2) open();
        if (stored && loads <= 2) await barrier;
        return stored;
      },
    };
    const { orders } = await setUp(gated);
    await orders.publish(OrderPlaced, { orderId: 'o-2', total: 5 });
    await harness.waitFor(OrderPlaced, { on: 'handled', endpoint: 'orders' });
    await Promise.all([orders.publish(ItemAdded, { orderId: 'o-2', sku: 'a' }), orders.publish(ItemAdded, { orderId: 'o-2', sku: 'b' })]);
    await harness.waitFor(ItemAdded, {
      on: 'handled',
      endpoint: 'orders',
      where: () => harness.handled.filter((r) => r.envelope.type === ItemAdded.type).length === 2,
    });
    const stored = await store.load(undefined, 'order-test', 'o-2');
    expect([...((stored?.state as { items: string[] } | undefined)?.items ?? [])].sort()).toEqual(['a', 'b']);
    expect(stored?.version).toBe(3);
    expect(loads).toBe(3);
    expect(harness.deadLettered).toEqual([]);
  });

  it('with harness.advanceTime: a payment timeout fires only once the time passed, compensates and completes; after completion it is ignored', async () => {
    const Cancel = defineCommand('saga-test.Cancel', { version: 1, owner: 'shipping', schema: z.object({ orderId: z.string() }) });
    const saga = defineSaga({
      name: 'pay-test',
      startedBy: [OrderPlaced],
      handles: [PaymentSucceeded],
      correlateBy: { 'saga-test.OrderPlaced': (m) => m.orderId, 'saga-test.PaymentSucceeded': (m) => m.orderId },
      initial: (m) => ({ orderId: m.orderId, status: 'pending' as string }),
      handlers: {
        'saga-test.OrderPlaced': async (state, _m, ctx) => {
          ctx.addCompensation('cancel', { orderId: state.orderId });
          await ctx.requestTimeout('payment', { delayMs: 30_000 });
        },
        'saga-test.PaymentSucceeded': (state, _m, ctx) => {
          ctx.complete();
          return { ...state, status: 'paid' };
        },
      },
      timeouts: {
        payment: {
          handler: async (state, _data, ctx) => {
            await ctx.compensate();
            ctx.complete();
            return { ...state, status: 'cancelled' };
          },
        },
      },
      compensations: { cancel: (_state, data: { orderId: string }, ctx) => ctx.send(Cancel, data) },
    });
    const store = createMemorySagaStore();
    harness = createTestHarness();
    const orders = await harness.endpoint({ name: 'orders' });
    orders.saga(saga, { store });
    const shipping = await harness.endpoint({ name: 'shipping' });
    shipping.on(Cancel, () => undefined);
    await harness.start();
    await orders.publish(OrderPlaced, { orderId: 'late', total: 1 });
    await orders.publish(OrderPlaced, { orderId: 'paid', total: 1 });
    await harness.waitFor(OrderPlaced, { on: 'handled', where: () => harness.handled.filter((r) => r.envelope.type === OrderPlaced.type).length === 2 });
    await orders.publish(PaymentSucceeded, { orderId: 'paid' });
    await harness.waitFor(PaymentSucceeded, { on: 'handled' });
    expect(harness.handled.filter((r) => r.envelope.type === 'mailroom.saga.pay-test.timeout')).toEqual([]);
    harness.advanceTime(30_000);
    const cancelled = await harness.waitFor(Cancel, { on: 'handled' });
    expect(cancelled.data).toEqual({ orderId: 'late' });
    await harness.waitFor(OrderPlaced, {
      on: 'handled',
      where: () => harness.handled.filter((r) => r.envelope.type === 'mailroom.saga.pay-test.timeout').length === 2,
    });
    expect((await store.load(undefined, 'pay-test', 'late'))?.state).toEqual({ orderId: 'late', status: 'cancelled' });
    expect((await store.load(undefined, 'pay-test', 'paid'))?.state).toEqual({ orderId: 'paid', status: 'paid' });
    expect(harness.handled.filter((r) => r.envelope.type === Cancel.type)).toHaveLength(1);
    expect(harness.deadLettered).toEqual([]);
  });

  it('fails fast on bad definitions and on a registration without a saga store, with MAILROOM_ERR_SAGA_DEFINITION', async () => {
    const definitionError = (e: unknown) => isMailroomError(e, ErrorCodes.SAGA_DEFINITION);
    const base = orderSagaDefinition();
    const bad: unknown[] = [
      { ...base, name: 'has space' },
      { ...base, startedBy: [] },
      { ...base, correlateBy: { ...base.correlateBy, 'saga-test.ItemAdded': undefined } },
      { ...base, handlers: { ...base.handlers, 'saga-test.PaymentSucceeded': 'nope' } },
      { ...base, handles: [PaymentSucceeded, ItemAdded, OrderPlaced] },
      { ...base, timeouts: { late: {} } },
      { ...base, compensations: { undo: 1 } },
      { ...base, onNotStarted: 'maybe' },
      { ...base, state: { not: 'a schema' } },
    ];
    for (const definition of bad) expect(() => defineSaga(definition as never), JSON.stringify(definition)).toThrow(expect.toSatisfy(definitionError));
    harness = createTestHarness();
    const bare = await harness.endpoint({ name: 'bare' });
    expect(() => bare.saga(orderSaga)).toThrow(expect.toSatisfy(definitionError));
    // A saga with timeouts on a transport that cannot schedule fails at registration, not at its first timeout.
    const memory = createMemoryTransport();
    const { maxScheduleDelayMs: _schedules, ...unscheduled } = memory.capabilities;
    const transport: MessageTransport = {
      name: 'unscheduled',
      capabilities: unscheduled,
      publish: (message) => memory.publish(message),
      subscribe: (options, handler) => memory.subscribe(options, handler),
      close: () => memory.close(),
    };
    const timed = defineSaga({ ...orderSagaDefinition(), name: 'timed-test', timeouts: { late: { handler: () => undefined } } } as never);
    const endpoint = createEndpoint({ name: 'timed', transport, heartbeat: false });
    expect(() => endpoint.saga(timed, { store: createMemorySagaStore() })).toThrow(expect.toSatisfy(definitionError));
    expect(() => endpoint.saga(defineSaga(orderSagaDefinition()), { store: createMemorySagaStore() })).not.toThrow();
    await memory.close();
  });
});

function orderSagaDefinition() {
  return {
    name: 'order-test-2',
    startedBy: [OrderPlaced],
    handles: [PaymentSucceeded, ItemAdded],
    correlateBy: {
      'saga-test.OrderPlaced': (m: { orderId: string }) => m.orderId,
      'saga-test.PaymentSucceeded': (m: { orderId: string }) => m.orderId,
      'saga-test.ItemAdded': (m: { orderId: string }) => m.orderId,
    },
    initial: () => ({ items: [] as string[] }),
    handlers: {
      'saga-test.OrderPlaced': () => undefined,
      'saga-test.PaymentSucceeded': () => undefined,
      'saga-test.ItemAdded': () => undefined,
    },
  } as const;
}
