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

for (const dialect of dialects) {
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
