// Plan B for RPC: the call is made through the resilient transport; when the target is down or its
// breaker is open, a typed command is queued instead and handled later, nothing lost or doubled.
import { Code, createClient } from '@connectrpc/connect';
import { waitUntil } from '@mailroom/conformance';
import { defineCommand, defineEvent, type Endpoint } from '@mailroom/core';
import { createTestHarness, type TestHarness } from '@mailroom/core/testing';
import { correlationMiddleware, defineOperation } from '@mailroom/http';
import { createSqliteOperationStore } from '@mailroom/sqlite';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { callOrQueue, createRpcTransport, RpcErrorCodes, type RpcTransport } from '../src/index.js';
import { type ReserveResponse, StockService } from './gen/mailroom/rpc/testing/v1/stock_pb.js';
import { type FaultStockServer, startStockServer } from './support/fault-stock-server.js';

const ReserveStock = defineCommand('stock.reserve-stock', {
  version: 1,
  owner: 'stock-worker',
  schema: z.object({ orderId: z.string(), sku: z.string(), quantity: z.number().int().positive() }),
});
const StockReserved = defineEvent('stock.stock-reserved', { version: 1, schema: z.object({ orderId: z.string() }) });

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Rig {
  harness: TestHarness;
  server: FaultStockServer;
  gateway: Endpoint<any>;
  transport: RpcTransport;
}

/**
 * A gateway endpoint whose transport calls the stock server, and a worker endpoint that handles
 * queued ReserveStock commands by calling the same server through its own transport (keyed by the
 * order id, so a repeat is harmless), retried by recoverability until the server answers.
 */
async function rig(): Promise<Rig> {
  const server = await startStockServer();
  const harness = createTestHarness();
  cleanups.push(async () => {
    await harness.stop();
    await server.down();
  });
  const gateway = await harness.endpoint<any>({ name: 'gateway' });
  const worker = await harness.endpoint({
    name: 'stock-worker',
    recoverability: { immediateRetries: 0, delayedRetries: 100, initialDelayMs: 50, factor: 1, jitter: 0 },
  });
  const workerTransport = createRpcTransport({ name: 'stock', baseUrl: server.url, retry: false, breaker: { consecutiveFailures: 3, halfOpenAfterMs: 100 } });
  const workerStock = createClient(StockService, workerTransport);
  worker.use({ incoming: correlationMiddleware() });
  worker.on(ReserveStock, async (command) => {
    await workerStock.reserve({ sku: command.sku, quantity: command.quantity }, { headers: { 'idempotency-key': command.orderId } });
  });
  await harness.start();
  const transport = createRpcTransport({
    name: 'stock',
    baseUrl: server.url,
    // Far above a healthy call on a loaded CI machine: this test is about refusals, not timeouts.
    timeoutMs: 3000,
    retry: { retries: 1, initialDelayMs: 5, maxDelayMs: 10 },
    breaker: { consecutiveFailures: 4, halfOpenAfterMs: 60_000 },
  });
  cleanups.push(() => {
    transport.close();
    workerTransport.close();
  });
  return { harness, server, gateway, transport };
}

describe('call or queue over RPC', () => {
  it('calls while healthy, returns an answer like NotFound without queuing, queues while down or open, and every queued command is handled later', async () => {
    const { harness, server, gateway, transport } = await rig();
    const stock = createClient(StockService, transport);
    const reserve = (orderId: string, sku: string, quantity: number) =>
      callOrQueue({
        call: () => stock.reserve({ sku, quantity }, { headers: { 'idempotency-key': orderId } }),
        queue: { endpoint: gateway, command: ReserveStock, data: (reason) => ({ orderId, sku, quantity: reason.transient ? quantity : 0 }) },
      });

    const live = await reserve('live', 'mug', 1);
    if (live.status !== 'completed') throw new Error(`expected completed, got ${live.status}`);
    const answer: ReserveResponse = live.value;
    expect(answer).toMatchObject({ sku: 'mug', remaining: 9 });

    const refused = await reserve('unknown', 'unicorn', 1);
    expect(refused).toMatchObject({ status: 'rejected', error: { code: RpcErrorCodes.RPC_STATUS, rpcCode: Code.NotFound } });

    await server.down();
    const queued: { orderId: string; reason: string }[] = [];
    for (let i = 0; i < 6; i++) {
      const result = await reserve(`order-${i}`, 'mug', 1);
      if (result.status !== 'queued') throw new Error(`expected queued, got ${result.status}`);
      queued.push({ orderId: `order-${i}`, reason: result.reason.code });
    }
    // Two calls spend their two attempts each on refused connections; the 4th failure opened the breaker.
    expect(queued.map((q) => q.reason)).toEqual([
      RpcErrorCodes.RPC_NETWORK,
      RpcErrorCodes.RPC_NETWORK,
      RpcErrorCodes.RPC_CIRCUIT_OPEN,
      RpcErrorCodes.RPC_CIRCUIT_OPEN,
      RpcErrorCodes.RPC_CIRCUIT_OPEN,
      RpcErrorCodes.RPC_CIRCUIT_OPEN,
    ]);
    expect(transport.breakerState).toBe('open');
    const sent = harness.published.filter((record) => record.envelope.type === ReserveStock.type);
    expect(sent.map((record) => record.data)).toEqual(queued.map(({ orderId }) => ({ orderId, sku: 'mug', quantity: 1 })));

    await server.up();
    await waitUntil(
      () => server.reservations.size === 7,
      15_000,
      () => `reservations: ${[...server.reservations.keys()].join(', ')}`,
    );
    // Nothing lost, nothing doubled: each order reserved once.
    expect([...server.reservations.keys()].sort()).toEqual(['live', ...queued.map((q) => q.orderId)].sort());
    expect(server.stock.get('mug')).toBe(10 - 7);
    expect(harness.deadLettered).toHaveLength(0);
  });

  it('queues a call that may have reached the server only when repeating it is safe', async () => {
    const { server, gateway, harness } = await rig();
    // A short timeout for the slow server; a patient transport where the server's answer is the point.
    const transport = createRpcTransport({ name: 'stock', baseUrl: server.url, timeoutMs: 300, retry: false, breaker: false });
    const patientTransport = createRpcTransport({ name: 'stock', baseUrl: server.url, timeoutMs: 20_000, retry: false, breaker: false });
    cleanups.push(() => {
      transport.close();
      patientTransport.close();
    });
    const stock = createClient(StockService, transport);
    const patient = createClient(StockService, patientTransport);
    server.slowMs = 10_000;
    const queuedCount = () => harness.published.filter((record) => record.envelope.type === ReserveStock.type).length;
    const queue = { endpoint: gateway, command: ReserveStock, data: { orderId: 'unsure', sku: 'mug', quantity: 1 } };

    server.mode = 'slow';
    // Reserve has side effects and no key: it timed out, the server may have reserved. Thrown, not queued.
    await expect(callOrQueue({ call: () => stock.reserve({ sku: 'mug', quantity: 1 }), queue })).rejects.toMatchObject({
      code: RpcErrorCodes.RPC_TIMEOUT,
      idempotent: false,
    });
    expect(queuedCount()).toBe(0);
    // Safe to repeat: a key, a NO_SIDE_EFFECTS method, or the caller says so.
    const keyed = () => stock.reserve({ sku: 'mug', quantity: 1 }, { headers: { 'idempotency-key': 'unsure' } });
    expect(await callOrQueue({ call: keyed, queue })).toMatchObject({ status: 'queued', reason: { code: RpcErrorCodes.RPC_TIMEOUT } });
    expect(await callOrQueue({ call: () => stock.getStock({ sku: 'mug' }), queue })).toMatchObject({ status: 'queued' });
    expect(await callOrQueue({ call: () => stock.reserve({ sku: 'mug', quantity: 1 }), queue: { ...queue, safeToRepeat: true } })).toMatchObject({
      status: 'queued',
    });
    // The server said it did not act (Unavailable), or the connection was refused: queued.
    server.mode = 'ok';
    // Handlers of the timed-out calls above may still start late on a loaded machine: only 'tee' gets the injected code.
    server.failOnlySku = 'tee';
    server.failNext.push(Code.Unavailable);
    expect(await callOrQueue({ call: () => patient.reserve({ sku: 'tee', quantity: 1 }), queue })).toMatchObject({
      status: 'queued',
      reason: { code: RpcErrorCodes.RPC_STATUS, rpcCode: Code.Unavailable },
    });
    await server.down();
    expect(await callOrQueue({ call: () => patient.reserve({ sku: 'mug', quantity: 1 }), queue })).toMatchObject({
      status: 'queued',
      reason: { code: RpcErrorCodes.RPC_NETWORK },
    });
    expect(queuedCount()).toBe(5);
  });

  it('with queue.operation records the operation before the command leaves; rethrows what is not an RpcError; checks its options', async () => {
    const { server, gateway, transport } = await rig();
    const database = new Database(':memory:');
    cleanups.push(() => database.close());
    const store = createSqliteOperationStore({ database });
    await store.migrate();
    const Reservation = defineOperation({ name: 'reservation', startedBy: ReserveStock, completesOn: StockReserved, timeout: 60_000 });
    const stock = createClient(StockService, transport);
    await server.down();
    const result = await callOrQueue({
      call: () => stock.getStock({ sku: 'mug' }),
      queue: {
        endpoint: gateway,
        command: ReserveStock,
        data: { orderId: 'o1', sku: 'mug', quantity: 1 },
        operationId: 'op-1',
        operation: { definition: Reservation, store },
      },
    });
    expect(result).toMatchObject({ status: 'queued', operationId: 'op-1' });
    expect((await store.read('op-1'))?.entries).toMatchObject([{ kind: 'started', type: ReserveStock.type }]);

    const bug = new TypeError('a bug');
    const data = { orderId: 'x', sku: 'mug', quantity: 1 };
    await expect(
      callOrQueue({
        call: async () => {
          throw bug;
        },
        queue: { endpoint: gateway, command: ReserveStock, data },
      }),
    ).rejects.toBe(bug);
    await expect(callOrQueue({ call: async () => 1, queue: { endpoint: gateway, command: StockReserved, data } as never })).rejects.toMatchObject({
      code: RpcErrorCodes.RPC_CONFIG,
    });
  });
});
