import { type OperationStoreFixture, Services, serviceAvailable } from '@mailroom/conformance';
import { createMemoryTransport, defineCommand, defineEvent, type Endpoint, type OperationStore, type Transport } from '@mailroom/core';
import { createTestHarness, type TestHarness } from '@mailroom/core/testing';
import { postgresOperationStoreFixture } from '@mailroom/postgres/testing';
import { sqliteOperationStoreFixture } from '@mailroom/sqlite/testing';
import Fastify, { type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { createOperationTracker, defineOperation, mailroomFastify, type OperationTracker, operationRoutes, startOperation } from '../../src/index.js';
import { POSTGRES_URL } from './postgres.js';

export const PlaceOrder = defineCommand('shop.place-order', {
  version: 1,
  owner: 'orders',
  schema: z.object({ orderId: z.string(), amount: z.number().positive() }),
});
export const QuickOrder = defineCommand('shop.quick-order', { version: 1, owner: 'nobody-home', schema: z.object({ orderId: z.string() }) });
export const PaymentCaptured = defineEvent('shop.payment-captured', { version: 1, schema: z.object({ orderId: z.string() }) });
export const StockReserved = defineEvent('shop.stock-reserved', { version: 1, schema: z.object({ orderId: z.string() }) });
export const OrderShipped = defineEvent('shop.order-shipped', { version: 1, schema: z.object({ orderId: z.string(), trackingNumber: z.string() }) });
export const PaymentDeclined = defineEvent('shop.payment-declined', { version: 1, schema: z.object({ orderId: z.string(), reason: z.string() }) });

export const PlaceOrderOperation = defineOperation({
  name: 'place-order',
  startedBy: PlaceOrder,
  steps: [{ event: PaymentCaptured, label: 'Payment captured' }, StockReserved],
  completesOn: OrderShipped,
  failsOn: PaymentDeclined,
  timeout: 10_000,
});

export const QuickOrderOperation = defineOperation({
  name: 'quick-order',
  startedBy: QuickOrder,
  completesOn: OrderShipped,
  timeout: 300,
});

/** One database kind the operation tests run against (one test body looped over every dialect). */
export interface Dialect {
  name: string;
  available: boolean;
  open(): Promise<OperationStoreFixture>;
}

export const dialects: Dialect[] = [
  {
    name: 'sqlite',
    available: true,
    open: sqliteOperationStoreFixture,
  },
  {
    name: 'postgres',
    available: await serviceAvailable(Services.postgres),
    open: () => postgresOperationStoreFixture(POSTGRES_URL),
  },
];

/** A gateway process: a real Fastify server with the operation routes over its own store connection. */
export interface Gateway {
  app: FastifyInstance;
  base: string;
  store: OperationStore;
}

/** Starts a gateway on a free port. */
export async function startGateway(
  store: OperationStore,
  endpoint: Endpoint<any>,
  options: { pollIntervalMs?: number; heartbeatMs?: number; routes?: (app: FastifyInstance) => void } = {},
): Promise<Gateway> {
  const app = Fastify();
  options.routes?.(app);
  await app.register(mailroomFastify, { operationsPath: '/api/operations' });
  await app.register(operationRoutes, {
    prefix: '/api/operations',
    store,
    pollIntervalMs: options.pollIntervalMs ?? 50,
    heartbeatMs: options.heartbeatMs ?? 10_000,
    retryMs: 100,
  });
  app.post('/api/orders', async (request, reply) => {
    const { operationId } = await startOperation(PlaceOrderOperation, request.body as never, { store, endpoint });
    return reply.accepted(operationId);
  });
  app.post('/api/quick-orders', async (request, reply) => {
    const { operationId } = await startOperation(QuickOrderOperation, request.body as never, { store, endpoint });
    return reply.accepted(operationId);
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, base: `http://127.0.0.1:${(app.server.address() as { port: number }).port}`, store };
}

/** Everything one end-to-end test needs: the bus, the tracker, a gateway, a driver endpoint publishing events by hand. */
export interface OperationsRig {
  harness: TestHarness;
  trackerTransport: Transport;
  tracker: OperationTracker;
  gateway: Gateway;
  /** An endpoint that publishes the events of a process by hand, with the operation id as correlation id. */
  driver: Endpoint;
  db: OperationStoreFixture;
  dispose(): Promise<void>;
}

/** Starts the tracker (its own endpoint on the shared broker) and a gateway; `services` adds orders, warehouse and shipping handlers. */
export async function startRig(dialect: Dialect, options: { services?: boolean; routes?: (app: FastifyInstance) => void } = {}): Promise<OperationsRig> {
  const db = await dialect.open();
  const harness = createTestHarness();
  const trackerTransport = createMemoryTransport({ broker: harness.broker });
  const trackerStore = await db.store();
  const tracker = createOperationTracker({
    transport: trackerTransport,
    store: trackerStore,
    operations: [PlaceOrderOperation, QuickOrderOperation],
    sweepIntervalMs: 50,
  });
  const gatewayEndpoint = await harness.endpoint({ name: 'gateway' });
  const driver = await harness.endpoint({ name: 'driver' });
  if (options.services) {
    const orders = await harness.endpoint({ name: 'orders' });
    orders.on(PlaceOrder, async (order, ctx) => {
      if (order.amount > 100) await ctx.publish(PaymentDeclined, { orderId: order.orderId, reason: 'insufficient funds' });
      else await ctx.publish(PaymentCaptured, { orderId: order.orderId });
    });
    const warehouse = await harness.endpoint({ name: 'warehouse' });
    warehouse.on(PaymentCaptured, (event, ctx) => ctx.publish(StockReserved, { orderId: event.orderId }));
    const shipping = await harness.endpoint({ name: 'shipping' });
    shipping.on(StockReserved, (event, ctx) => ctx.publish(OrderShipped, { orderId: event.orderId, trackingNumber: `TRK-${event.orderId}` }));
  }
  await tracker.start();
  await harness.start();
  const gateway = await startGateway(trackerStore, gatewayEndpoint, { ...(options.routes && { routes: options.routes }) });
  return {
    harness,
    trackerTransport,
    tracker,
    gateway,
    driver,
    db,
    async dispose() {
      await gateway.app.close();
      await tracker.stop();
      await harness.stop();
      await trackerTransport.close();
      await db.dispose();
    },
  };
}

/** Resolves once the tracker's queue is empty with nothing in flight: every event published so far is handled. */
export async function trackerIdle(transport: Transport, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = (await transport.queues()).find((queue) => queue.endpoint === 'operations');
    if (info && info.depth === 0 && info.inFlight === 0) return;
    if (Date.now() > deadline) throw new Error(`the tracker is still busy: ${JSON.stringify(info)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
