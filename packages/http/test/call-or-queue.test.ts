import { performance } from 'node:perf_hooks';
import { Services, serviceAvailable, waitUntil } from '@mailroom/conformance';
import { defineCommand, defineEvent, type Endpoint } from '@mailroom/core';
import { createTestHarness, type TestHarness } from '@mailroom/core/testing';
import { createPostgresPersistence } from '@mailroom/postgres';
import { createSqliteOperationStore } from '@mailroom/sqlite';
import Database from 'better-sqlite3';
import Fastify, { type FastifyInstance } from 'fastify';
import type pg from 'pg';
import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  callOrQueue,
  correlationMiddleware,
  createHttpClient,
  defineOperation,
  type HttpClient,
  HttpErrorCodes,
  type HttpRequestOptions,
  mailroomFastify,
} from '../src/index.js';
import { type FaultUpstream, startUpstream } from './support/fault-upstream.js';
import { connectPool, uniqueSchema } from './support/postgres.js';

const ChargeCard = defineCommand('payments.charge-card', {
  version: 1,
  owner: 'payments-worker',
  schema: z.object({ orderId: z.string(), amount: z.number() }),
});

const ChargeSettled = defineEvent('payments.charge-settled', { version: 1, schema: z.object({ orderId: z.string() }) });

const postgresAvailable = await serviceAvailable(Services.postgres);

interface Rig {
  harness: TestHarness;
  upstream: FaultUpstream;
  app: FastifyInstance;
  gateway: Endpoint<any>;
  gatewayClient: HttpClient;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * A gateway (real Fastify) whose `POST /api/charges` calls the payments upstream or queues a
 * ChargeCard command, and a payments worker endpoint that handles queued commands by calling the
 * same upstream through its own client (its own breaker), retried by recoverability until it works.
 */
async function rig(gatewayOptions: { persistence?: ReturnType<typeof createPostgresPersistence> } = {}): Promise<Rig> {
  const upstream = await startUpstream();
  const harness = createTestHarness();
  cleanups.push(async () => {
    await harness.stop();
    await upstream.close();
  });
  const gateway = await harness.endpoint<any>({ name: 'gateway', ...(gatewayOptions.persistence && { persistence: gatewayOptions.persistence }) });
  const worker = await harness.endpoint({
    name: 'payments-worker',
    recoverability: { immediateRetries: 0, delayedRetries: 100, initialDelayMs: 50, factor: 1, jitter: 0 },
  });
  const workerClient = createHttpClient({ name: 'payments', baseUrl: upstream.url, retry: false, breaker: { consecutiveFailures: 3, halfOpenAfterMs: 150 } });
  worker.use({ incoming: correlationMiddleware() });
  worker.on(ChargeCard, async (command) => {
    await workerClient.request({ method: 'POST', path: '/charges', idempotencyKey: command.orderId, json: command });
  });
  await harness.start();

  const gatewayClient = createHttpClient({
    name: 'payments',
    baseUrl: upstream.url,
    timeoutMs: 500,
    retry: { retries: 1, initialDelayMs: 5, maxDelayMs: 10 },
    breaker: { consecutiveFailures: 4, halfOpenAfterMs: 60_000 },
  });
  const app = Fastify();
  await app.register(mailroomFastify, { operationsPath: '/api/operations' });
  app.post<{ Body: { orderId: string; amount: number } }>(
    '/api/charges',
    {
      schema: {
        body: {
          type: 'object',
          required: ['orderId', 'amount'],
          properties: { orderId: { type: 'string', minLength: 1 }, amount: { type: 'number' } },
        },
      },
    },
    async (request, reply) => {
      const result = await callOrQueue({
        call: () => gatewayClient.json({ method: 'POST', path: '/charges', idempotencyKey: request.body.orderId, json: request.body }),
        queue: { endpoint: gateway, command: ChargeCard, data: request.body },
      });
      if (result.status === 'completed') return reply.code(201).send(result.value);
      if (result.status === 'queued') return reply.accepted(result.operationId, { queuedBecause: result.reason.code, messageId: result.envelope?.id });
      return reply
        .code(result.error.status ?? 502)
        .type('application/problem+json')
        .send(result.error.response?.body);
    },
  );
  await app.ready();
  cleanups.push(() => app.close());
  return { harness, upstream, app, gateway, gatewayClient };
}

describe('call or queue', () => {
  it('calls while healthy, returns a 4xx without queuing, queues while down or open, and every queued command is handled later', async () => {
    const { harness, upstream, app, gatewayClient } = await rig();

    const healthy = await app.inject({ method: 'POST', url: '/api/charges', payload: { orderId: 'healthy', amount: 10 } });
    expect(healthy.statusCode).toBe(201);
    expect(healthy.json()).toEqual({ chargeId: 'ch-healthy', orderId: 'healthy' });

    const refused = await app.inject({ method: 'POST', url: '/api/charges', payload: { orderId: 'zero', amount: 0 } });
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({ detail: 'amount must be positive' });

    await upstream.down();
    const queued: { orderId: string; operationId: string; because: string }[] = [];
    for (let i = 0; i < 12; i++) {
      const response = await app.inject({ method: 'POST', url: '/api/charges', payload: { orderId: `order-${i}`, amount: 5 + i } });
      expect(response.statusCode).toBe(202);
      const body = response.json();
      expect(response.headers.location).toBe(`/api/operations/${body.operationId}`);
      // The queued command joins the request's correlation: its id is the operation id.
      expect(body.operationId).toBe(response.headers['x-correlation-id']);
      queued.push({ orderId: `order-${i}`, operationId: body.operationId, because: body.queuedBecause });
    }
    // Two calls spend their two attempts each on refused connections; the 4th failure opened the breaker.
    expect(queued.slice(0, 2).map((q) => q.because)).toEqual([HttpErrorCodes.HTTP_NETWORK, HttpErrorCodes.HTTP_NETWORK]);
    expect(new Set(queued.slice(2).map((q) => q.because))).toEqual(new Set([HttpErrorCodes.HTTP_CIRCUIT_OPEN]));
    expect(gatewayClient.breakerState).toBe('open');
    expect(harness.published.filter((record) => record.envelope.type === ChargeCard.type)).toHaveLength(12);
    expect(harness.published.some((record) => (record.data as { orderId: string }).orderId === 'zero')).toBe(false);

    const backUp = performance.now();
    await upstream.up();
    await waitUntil(
      () => upstream.charges.size === 13,
      10_000,
      () => `charges: ${[...upstream.charges.keys()].join(', ')}`,
    );
    console.log(`[http] call-or-queue: 12 queued charges all handled ${(performance.now() - backUp).toFixed(0)} ms after the upstream came back`);

    // Nothing lost, nothing doubled: each order charged once, under the operation id it was queued with.
    expect([...upstream.charges.keys()].sort()).toEqual(['healthy', ...queued.map((q) => q.orderId)].sort());
    for (const { orderId, operationId } of queued) {
      const charged = upstream.hits.find((hit) => hit.method === 'POST' && hit.headers['idempotency-key'] === orderId);
      expect(charged?.headers['x-correlation-id']).toBe(operationId);
    }
    expect(harness.deadLettered).toHaveLength(0);
  });

  it('returns completed, and rethrows errors that are not HTTP errors', async () => {
    const { gateway } = await rig();
    const done = await callOrQueue({ call: async () => 42, queue: { endpoint: gateway, command: ChargeCard, data: { orderId: 'x', amount: 1 } } });
    expect(done).toEqual({ status: 'completed', value: 42 });
    const bug = new TypeError('a bug');
    await expect(
      callOrQueue({
        call: async () => {
          throw bug;
        },
        queue: { endpoint: gateway, command: ChargeCard, data: { orderId: 'x', amount: 1 } },
      }),
    ).rejects.toBe(bug);
  });

  it('queues a call that may have reached the upstream only when repeating it is safe: a POST without an idempotency key that timed out is thrown, not queued', async () => {
    const { upstream, gateway, harness } = await rig();
    const client = createHttpClient({ name: 'payments', baseUrl: upstream.url, timeoutMs: 100, retry: false, breaker: false });
    const queuedCount = () => harness.published.filter((record) => record.envelope.type === ChargeCard.type).length;
    const charge = (request: HttpRequestOptions, queue: { safeToRepeat?: boolean } = {}, via = client) =>
      callOrQueue({ call: () => via.json(request), queue: { endpoint: gateway, command: ChargeCard, data: { orderId: 'unsure', amount: 1 }, ...queue } });
    const unkeyed: HttpRequestOptions = { method: 'POST', path: '/charges', json: { orderId: 'unsure', amount: 1 } };

    upstream.mode = 'slow';
    await expect(charge(unkeyed)).rejects.toMatchObject({ code: HttpErrorCodes.HTTP_TIMEOUT, idempotent: false });
    expect(queuedCount()).toBe(0);
    // Safe to repeat: a key, an idempotent method, or the caller says so.
    expect(await charge({ ...unkeyed, idempotencyKey: 'unsure' })).toMatchObject({ status: 'queued', reason: { code: HttpErrorCodes.HTTP_TIMEOUT } });
    expect(await charge({ path: '/items/1' })).toMatchObject({ status: 'queued', reason: { code: HttpErrorCodes.HTTP_TIMEOUT } });
    expect(await charge(unkeyed, { safeToRepeat: true })).toMatchObject({ status: 'queued', reason: { code: HttpErrorCodes.HTTP_TIMEOUT } });
    // The upstream said it did not act on it (503), or the connection was refused: nothing was done, so it is queued.
    upstream.mode = 'failing';
    expect(await charge(unkeyed)).toMatchObject({ status: 'queued', reason: { code: HttpErrorCodes.HTTP_STATUS, status: 503 } });
    await upstream.down();
    const dispatcher = new Agent(); // no pooled connection the server closed: this one is refused
    cleanups.push(() => dispatcher.close());
    const refused = createHttpClient({ name: 'payments', baseUrl: upstream.url, retry: false, breaker: false, dispatcher });
    expect(await charge(unkeyed, {}, refused)).toMatchObject({ status: 'queued', reason: { code: HttpErrorCodes.HTTP_NETWORK } });
    expect(queuedCount()).toBe(5);
  });

  it('with queue.operation, records the operation as pending before the command leaves, and nothing when the call succeeds', async () => {
    const { upstream, gateway, harness } = await rig();
    const database = new Database(':memory:');
    cleanups.push(async () => {
      database.close();
    });
    const store = createSqliteOperationStore({ database });
    await store.migrate();
    const ChargeOperation = defineOperation({ name: 'charge', startedBy: ChargeCard, completesOn: ChargeSettled, timeout: 60_000 });
    const client = createHttpClient({ name: 'payments', baseUrl: upstream.url, retry: false });
    const charge = (orderId: string, operationId: string) =>
      callOrQueue({
        call: () => client.json({ method: 'POST', path: '/charges', idempotencyKey: orderId, json: { orderId, amount: 7 } }),
        queue: { endpoint: gateway, command: ChargeCard, data: { orderId, amount: 7 }, operationId, operation: { definition: ChargeOperation, store } },
      });
    expect((await charge('live', 'op-live')).status).toBe('completed');
    expect(await store.read('op-live')).toBeUndefined();

    await upstream.down();
    const queued = await charge('later', 'op-later');
    if (queued.status !== 'queued') throw new Error(`expected queued, got ${queued.status}`);
    expect(queued.operationId).toBe('op-later');
    const recorded = await store.read('op-later');
    expect(recorded?.operation.name).toBe('charge');
    expect(recorded?.entries).toMatchObject([{ seq: 1, kind: 'started', type: ChargeCard.type, messageId: queued.envelope?.id }]);
    const sent = harness.published.filter((record) => record.envelope.type === ChargeCard.type);
    expect(sent.map((record) => [record.envelope.id, record.envelope.correlationid])).toEqual([[queued.envelope?.id, 'op-later']]);
    await expect(
      callOrQueue({
        call: async () => 1,
        queue: { endpoint: gateway, command: ChargeCard, data: { orderId: 'x', amount: 1 }, operation: { definition: ChargeOperation, store: {} as never } },
      }),
    ).rejects.toMatchObject({ code: HttpErrorCodes.HTTP_CONFIG });
  });

  describe.runIf(postgresAvailable)('with persistence (PostgreSQL outbox)', () => {
    it('queues through the outbox in a transaction, and the relay delivers the command', async () => {
      const pool: pg.Pool = await connectPool();
      const schema = uniqueSchema();
      cleanups.push(async () => {
        await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await pool.end();
      });
      const persistence = createPostgresPersistence({ pool, schema, relay: { pollIntervalMs: 50 } });
      const { upstream, app, harness } = await rig({ persistence });
      await upstream.down();
      const response = await app.inject({ method: 'POST', url: '/api/charges', payload: { orderId: 'outboxed', amount: 3 } });
      expect(response.statusCode).toBe(202);
      const { messageId } = response.json();
      const { rows } = await pool.query(`SELECT headers->>'ce-id' AS id FROM ${schema}.mailroom_outbox WHERE headers->>'ce-id' = $1`, [messageId]);
      expect(rows).toHaveLength(1);
      await harness.waitFor(ChargeCard, { on: 'published', where: (record) => record.envelope.id === messageId });
      await upstream.up();
      await waitUntil(() => upstream.charges.has('outboxed'), 10_000);
    });
  });
});
