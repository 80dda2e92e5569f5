import { performance } from 'node:perf_hooks';
import { isMailroomError } from '@mailroom/core';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { classifierFor, HttpErrorCodes, type OperationEventData, type OperationView, startOperation } from '../src/index.js';
import {
  dialects,
  OrderShipped,
  PaymentCaptured,
  PaymentDeclined,
  PlaceOrder,
  PlaceOrderOperation,
  QuickOrderOperation,
  StockReserved,
  startGateway,
  startRig,
  trackerIdle,
} from './support/operations-rig.js';
import { openSse, type ReceivedEvent } from './support/sse-client.js';

const classify = classifierFor([PlaceOrderOperation, QuickOrderOperation]);
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function parsed(events: ReceivedEvent[]): OperationEventData[] {
  return events.map((event) => JSON.parse(event.data) as OperationEventData);
}

async function getJson<T>(url: string): Promise<{ status: number; body: T; headers: Record<string, unknown> }> {
  const response = await request(url);
  return { status: response.statusCode, headers: response.headers, body: (await response.body.json()) as T };
}

async function placeOrder(base: string, payload: unknown, path = '/api/orders'): Promise<{ operationId: string; location: string }> {
  const response = await request(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
  const body = (await response.body.json()) as { operationId: string; href: string; events: string };
  expect(response.statusCode).toBe(202);
  expect(response.headers.location).toBe(body.href);
  expect(body.events).toBe(`${body.href}/events`);
  return { operationId: body.operationId, location: `${base}${response.headers.location as string}` };
}

const event = (type: string, messageId: string, at: number, data?: unknown) => ({ type, messageId, at: new Date(at), data });

for (const dialect of dialects) {
  describe.runIf(dialect.available)(`operation store (${dialect.name})`, () => {
    it('migrates idempotently, also from two connections at once', async () => {
      const db = await dialect.open();
      cleanups.push(() => db.dispose());
      const [a, b] = [await db.store(), await db.store()];
      await Promise.all([a.migrate(), b.migrate()]);
      await a.migrate();
      expect(await a.read('nothing')).toBeUndefined();
    });

    it('keeps a gap-free history: duplicates, unrelated events and events after the end are ignored; concurrent appends are serialized', async () => {
      const db = await dialect.open();
      cleanups.push(() => db.dispose());
      const [a, b] = [await db.store(), await db.store()];
      await a.migrate();
      const t0 = Date.parse('2026-01-01T00:00:00Z');
      const created = await a.create(
        {
          id: 'op-1',
          name: 'place-order',
          steps: PlaceOrderOperation.steps,
          startedAt: new Date(t0),
          deadline: undefined,
          started: { type: PlaceOrder.type, messageId: 'm0' },
        },
        classify,
      );
      expect(created).toBe(true);
      expect(
        await b.create(
          { id: 'op-1', name: 'place-order', steps: [], startedAt: new Date(t0), deadline: undefined, started: { type: PlaceOrder.type, messageId: 'other' } },
          classify,
        ),
      ).toBe(false);
      expect(await a.append('op-1', event(PaymentCaptured.type, 'm1', t0 + 1, { orderId: 'o' }), classify)).toBe('recorded');
      expect(await b.append('op-1', event(PaymentCaptured.type, 'm1', t0 + 1, { orderId: 'o' }), classify)).toBe('duplicate');
      expect(await a.append('op-1', event('shop.unrelated', 'mx', t0 + 2), classify)).toBe('unrelated');
      // Concurrent appends from two connections (two tracker processes): each gets its own seq, none lost.
      const outcomes = await Promise.all(
        Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? a : b).append('op-1', event(StockReserved.type, `s${i}`, t0 + 10 + i, { orderId: 'o' }), classify)),
      );
      expect(outcomes).toEqual(Array(12).fill('recorded'));
      expect(await a.append('op-1', event(OrderShipped.type, 'm-end', t0 + 100, { orderId: 'o', trackingNumber: 'T' }), classify)).toBe('recorded');
      expect(await b.append('op-1', event(PaymentDeclined.type, 'm-late', t0 + 200, { orderId: 'o', reason: 'late' }), classify)).toBe('final');
      const stored = await b.read('op-1');
      expect(stored?.entries.map((entry) => entry.seq)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
      expect(stored?.entries.at(-1)).toMatchObject({ kind: 'completed', type: OrderShipped.type, data: { trackingNumber: 'T' } });
      expect(stored?.entries[0]).toMatchObject({ kind: 'started', messageId: 'm0', at: '2026-01-01T00:00:00.000Z' });
      expect(stored?.entries[0]?.data).toBeUndefined();
      expect((await a.read('op-1', 13))?.entries.map((entry) => entry.seq)).toEqual([14, 15]);
    });

    it('keeps events that arrive before their operation and applies them, in event-time order, when it is recorded', async () => {
      const db = await dialect.open();
      cleanups.push(() => db.dispose());
      const store = await db.store();
      await store.migrate();
      const t0 = Date.parse('2026-02-01T00:00:00Z');
      expect(await store.append('early', event(StockReserved.type, 'e2', t0 + 20, { orderId: 'o' }), classify)).toBe('early');
      expect(await store.append('early', event(PaymentCaptured.type, 'e1', t0 + 10, { orderId: 'o' }), classify)).toBe('early');
      expect(await store.append('early', event(PaymentCaptured.type, 'e1', t0 + 10, { orderId: 'o' }), classify)).toBe('early');
      expect(await store.read('early')).toBeUndefined();
      await store.create(
        {
          id: 'early',
          name: 'place-order',
          steps: PlaceOrderOperation.steps,
          startedAt: new Date(t0),
          deadline: undefined,
          started: { type: PlaceOrder.type, messageId: 'e0' },
        },
        classify,
      );
      const stored = await store.read('early');
      expect(stored?.entries.map((entry) => [entry.seq, entry.type])).toEqual([
        [1, PlaceOrder.type],
        [2, PaymentCaptured.type],
        [3, StockReserved.type],
      ]);
      expect(await store.append('orphan', event(PaymentCaptured.type, 'o1', t0), classify)).toBe('early');
      expect(await store.purgeEarly(new Date(Date.now() + 1000))).toBe(1);
    });

    it('times out every overdue operation in one sweep, even more than one batch of them', async () => {
      const db = await dialect.open();
      cleanups.push(() => db.dispose());
      const store = await db.store();
      await store.migrate();
      const now = Date.now();
      for (let i = 0; i < 130; i++) {
        await store.create(
          {
            id: `overdue-${i}`,
            name: 'quick-order',
            steps: [],
            startedAt: new Date(now - 1000),
            deadline: new Date(now - 10),
            started: { type: 'shop.quick-order', messageId: `overdue-${i}-m` },
          },
          classify,
        );
      }
      expect(await store.expire(new Date(now))).toHaveLength(130);
    });

    it('times out overdue operations exactly once, even with two sweepers', async () => {
      const db = await dialect.open();
      cleanups.push(() => db.dispose());
      const [a, b] = [await db.store(), await db.store()];
      await a.migrate();
      const now = Date.now();
      for (const [id, deadline] of [
        ['due-1', now - 10],
        ['due-2', now - 5],
        ['later', now + 60_000],
      ] as const) {
        await a.create(
          {
            id,
            name: 'quick-order',
            steps: [],
            startedAt: new Date(now - 1000),
            deadline: new Date(deadline),
            started: { type: 'shop.quick-order', messageId: `${id}-m` },
          },
          classify,
        );
      }
      const [first, second] = await Promise.all([a.expire(new Date(now)), b.expire(new Date(now))]);
      expect([...first, ...second].sort()).toEqual(['due-1', 'due-2']);
      const due = await a.read('due-1');
      expect(due?.entries.map((entry) => entry.kind)).toEqual(['started', 'timed-out']);
      expect(await a.append('due-1', event(OrderShipped.type, 'late', now, { orderId: 'x', trackingNumber: 'y' }), classify)).toBe('final');
      expect((await a.read('later'))?.entries).toHaveLength(1);
    });
  });

  describe.runIf(dialect.available)(`operations over HTTP and SSE (${dialect.name})`, () => {
    it('follows an operation over SSE from start to completed, with steps and timestamps', async () => {
      const rig = await startRig(dialect, { services: true });
      cleanups.push(() => rig.dispose());
      const posted = performance.now();
      const { operationId, location } = await placeOrder(rig.gateway.base, { orderId: 'A-1', amount: 40 });
      const stream = await openSse(`${location}/events`);
      expect(stream.status).toBe(200);
      expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      await stream.ended; // the server ends the stream after the terminal entry
      console.log(`[http] ${dialect.name}: POST to 202 to SSE 'completed' across 3 services and the tracker: ${(performance.now() - posted).toFixed(0)} ms`);
      expect(stream.retry).toBe(100);
      expect(stream.events.map((e) => [e.id, e.event])).toEqual([
        ['1', 'started'],
        ['2', 'step'],
        ['3', 'step'],
        ['4', 'completed'],
      ]);
      const data = parsed(stream.events);
      expect(data.map((d) => d.status)).toEqual(['pending', 'pending', 'pending', 'completed']);
      expect(data[1]?.steps.map((step) => step.done)).toEqual([true, false]);
      expect(data[3]).toMatchObject({ id: operationId, name: 'place-order', entry: { type: OrderShipped.type, data: { trackingNumber: 'TRK-A-1' } } });
      expect(data[3]?.steps).toEqual([
        { type: PaymentCaptured.type, label: 'Payment captured', done: true, at: expect.any(String) },
        { type: StockReserved.type, label: StockReserved.type, done: true, at: expect.any(String) },
      ]);

      const view = await getJson<OperationView>(location);
      expect(view.status).toBe(200);
      expect(view.body).toMatchObject({ id: operationId, status: 'completed', endedAt: expect.any(String), deadline: expect.any(String) });
      expect(view.body.entries.map((entry) => entry.kind)).toEqual(['started', 'step', 'step', 'completed']);
      for (const entry of view.body.entries) expect(Date.parse(entry.at)).toBeGreaterThanOrEqual(Date.parse(view.body.startedAt));
    });

    it('follows an operation over SSE to failed', async () => {
      const rig = await startRig(dialect, { services: true });
      cleanups.push(() => rig.dispose());
      const { location } = await placeOrder(rig.gateway.base, { orderId: 'B-1', amount: 500 });
      const stream = await openSse(`${location}/events`);
      await stream.ended;
      expect(stream.events.map((e) => e.event)).toEqual(['started', 'failed']);
      const last = parsed(stream.events).at(-1);
      expect(last).toMatchObject({ status: 'failed', entry: { type: PaymentDeclined.type, data: { reason: 'insufficient funds' } } });
      expect((await getJson<OperationView>(location)).body.status).toBe('failed');
    });

    it('resumes after a dropped connection with Last-Event-ID without missing a step, then answers 204 once finished', async () => {
      const rig = await startRig(dialect);
      cleanups.push(() => rig.dispose());
      const { operationId, location } = await placeOrder(rig.gateway.base, { orderId: 'C-1', amount: 10 });
      const first = await openSse(`${location}/events`);
      await first.waitForEvents(1);
      await rig.driver.publish(PaymentCaptured, { orderId: 'C-1' }, { correlationId: operationId });
      await first.waitForEvents(2);
      first.close(); // the network drops
      await rig.driver.publish(StockReserved, { orderId: 'C-1' }, { correlationId: operationId });
      await rig.driver.publish(OrderShipped, { orderId: 'C-1', trackingNumber: 'T-C' }, { correlationId: operationId });
      await trackerIdle(rig.trackerTransport);

      const resumed = await openSse(`${location}/events`, { lastEventId: first.events.at(-1)?.id as string });
      await resumed.ended;
      const ids = [...first.events, ...resumed.events].map((e) => Number(e.id));
      expect(ids).toEqual([1, 2, 3, 4]);
      expect(resumed.events.map((e) => e.event)).toEqual(['step', 'completed']);
      expect(parsed(resumed.events)[0]?.steps.map((step) => step.done)).toEqual([true, true]);

      const after = await openSse(`${location}/events`, { lastEventId: '4' });
      expect(after.status).toBe(204);
      const bad = await request(`${location}/events`, { headers: { 'last-event-id': 'abc' } });
      expect(bad.statusCode).toBe(400);
      expect(((await bad.body.json()) as { code: string }).code).toBe(HttpErrorCodes.OPERATION_BAD_EVENT_ID);
    });

    it('turns an operation timed-out when it exceeds its timeout, and ignores events arriving after', async () => {
      const rig = await startRig(dialect);
      cleanups.push(() => rig.dispose());
      const { operationId, location } = await placeOrder(rig.gateway.base, { orderId: 'D-1' }, '/api/quick-orders');
      const stream = await openSse(`${location}/events`);
      await stream.ended;
      expect(stream.events.map((e) => e.event)).toEqual(['started', 'timed-out']);
      const timedOut = parsed(stream.events)[1];
      expect(timedOut).toMatchObject({ status: 'timed-out', entry: { type: 'mailroom.operation.timed-out' } });
      expect(Date.parse(timedOut?.entry.at as string)).toBeGreaterThanOrEqual(Date.parse(timedOut?.startedAt as string) + 300);

      await rig.driver.publish(OrderShipped, { orderId: 'D-1', trackingNumber: 'late' }, { correlationId: operationId });
      await trackerIdle(rig.trackerTransport);
      const view = await getJson<OperationView>(location);
      expect(view.body.status).toBe('timed-out');
      expect(view.body.entries).toHaveLength(2);
      expect(await rig.trackerTransport.deadLetters.list({ endpoint: 'operations' })).toEqual([]);
    });

    it('serves the stream from another gateway process that shares only the store (polling), with heartbeats', async () => {
      const rig = await startRig(dialect);
      cleanups.push(() => rig.dispose());
      const other = await startGateway(await rig.db.store(), await rig.harness.endpoint({ name: 'gateway-b' }), { pollIntervalMs: 50, heartbeatMs: 100 });
      cleanups.push(() => other.app.close());
      const { operationId, location } = await placeOrder(rig.gateway.base, { orderId: 'E-1', amount: 10 });
      const remote = location.replace(rig.gateway.base, other.base);
      const stream = await openSse(`${remote}/events`);
      await stream.waitForEvents(1);
      await stream.waitForComments(2); // idle: heartbeats every 100 ms
      expect(stream.comments[0]).toMatch(/^heartbeat /);
      const published = performance.now();
      await rig.driver.publish(PaymentCaptured, { orderId: 'E-1' }, { correlationId: operationId });
      await stream.waitForEvents(2);
      console.log(
        `[http] ${dialect.name}: event published to SSE event on another gateway (polling every 50 ms): ${(performance.now() - published).toFixed(0)} ms`,
      );
      await rig.driver.publish(PaymentDeclined, { orderId: 'E-1', reason: 'fraud check' }, { correlationId: operationId });
      await stream.ended;
      expect(stream.events.map((e) => e.event)).toEqual(['started', 'step', 'failed']);
    });

    it('never crashes on events for unknown operations: they wait as early events and apply when it is recorded', async () => {
      const rig = await startRig(dialect);
      cleanups.push(() => rig.dispose());
      await rig.driver.publish(PaymentCaptured, { orderId: 'F-1' }, { correlationId: 'op-early-f1' });
      await rig.driver.publish(OrderShipped, { orderId: 'F-9', trackingNumber: 'x' }, { correlationId: 'not-an-operation' });
      await trackerIdle(rig.trackerTransport);
      expect(await rig.trackerTransport.deadLetters.list({ endpoint: 'operations' })).toEqual([]);
      const unknown = await getJson<{ code: string; status: number }>(`${rig.gateway.base}/api/operations/op-early-f1`);
      expect(unknown.status).toBe(404);
      expect(unknown.body.code).toBe(HttpErrorCodes.OPERATION_NOT_FOUND);

      const response = await request(`${rig.gateway.base}/api/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ orderId: 'F-1', amount: -1 }),
      });
      expect(response.statusCode).toBe(400);
      expect(await response.body.json()).toMatchObject({ code: 'MAILROOM_ERR_CONTRACT_VALIDATION', errors: [{ in: 'message', path: 'amount' }] });

      await startOperation(PlaceOrderOperation, { orderId: 'F-1', amount: 5 }, { store: rig.gateway.store, endpoint: rig.driver, operationId: 'op-early-f1' });
      const view = await getJson<OperationView>(`${rig.gateway.base}/api/operations/op-early-f1`);
      expect(view.body.entries.map((entry) => entry.type)).toEqual([PlaceOrder.type, PaymentCaptured.type]);
      const again = await startOperation(
        PlaceOrderOperation,
        { orderId: 'F-1', amount: 5 },
        { store: rig.gateway.store, endpoint: rig.driver, operationId: 'op-early-f1' },
      );
      expect(again).toMatchObject({ created: false, envelope: undefined });
      const badId = await startOperation(
        PlaceOrderOperation,
        { orderId: 'F-1', amount: 5 },
        { store: rig.gateway.store, endpoint: rig.driver, operationId: 'bad id' },
      ).catch((error) => error);
      expect(isMailroomError(badId, HttpErrorCodes.OPERATION_CONFIG)).toBe(true);
    });

    it('sends the starting message again, under its recorded id, when a retried start finds the operation holding only its started entry (the first start died before sending)', async () => {
      const rig = await startRig(dialect);
      cleanups.push(() => rig.dispose());
      const store = rig.gateway.store;
      // What a gateway that crashed between recording the operation and sending leaves behind.
      const startedAt = new Date();
      await store.create(
        {
          id: 'op-crashed',
          name: PlaceOrderOperation.name,
          steps: PlaceOrderOperation.steps,
          startedAt,
          deadline: new Date(startedAt.getTime() + 10_000),
          started: { type: PlaceOrder.type, messageId: 'start-of-op-crashed' },
        },
        classify,
      );
      const sentIds = () => rig.harness.published.filter((record) => record.envelope.type === PlaceOrder.type).map((record) => record.envelope.id);
      const start = () => startOperation(PlaceOrderOperation, { orderId: 'R-1', amount: 5 }, { store, endpoint: rig.driver, operationId: 'op-crashed' });
      const retried = await start();
      expect(retried).toMatchObject({ operationId: 'op-crashed', created: false, envelope: { id: 'start-of-op-crashed', correlationid: 'op-crashed' } });
      expect(sentIds()).toEqual(['start-of-op-crashed']);
      // Once the process has moved on, a retried start sends nothing.
      await rig.driver.publish(PaymentCaptured, { orderId: 'R-1' }, { correlationId: 'op-crashed' });
      await trackerIdle(rig.trackerTransport);
      expect((await store.read('op-crashed'))?.entries.map((entry) => entry.kind)).toEqual(['started', 'step']);
      expect(await start()).toMatchObject({ created: false, envelope: undefined });
      expect(sentIds()).toEqual(['start-of-op-crashed']);
    });
  });
}
