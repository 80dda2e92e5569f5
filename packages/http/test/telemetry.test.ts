// @mailroom/http under the real OpenTelemetry SDK: the Fastify plugin's server spans and the client's
// spans join one trace over W3C headers, retries are span events, the breaker and operations are
// metrics; and the health routes answer as Kubernetes probes expect.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEndpoint, createMemoryTransport, defineEvent, MemoryBroker } from '@mailroom/core';
import { createSqliteOperationStore } from '@mailroom/sqlite';
import { SpanKind, trace } from '@opentelemetry/api';
import Database from 'better-sqlite3';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { installOtelSdk, parentOf } from '../../core/test/otel-sdk.js';
import {
  createHttpClient,
  createOperationTracker,
  currentTraceId,
  defineOperation,
  HttpMetrics,
  healthRoutes,
  mailroomFastify,
  startOperation,
} from '../src/index.js';

const sdk = installOtelSdk();
afterAll(() => sdk.shutdown());
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  sdk.reset();
});

async function listen(app: FastifyInstance): Promise<string> {
  cleanups.push(() => app.close());
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

async function until<T>(read: () => T | undefined | Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('@mailroom/http telemetry', () => {
  it('joins one trace: server span -> client span (a retry event) -> the upstream server span; the trace id is the current one', async () => {
    let calls = 0;
    const upstream = Fastify();
    await upstream.register(mailroomFastify);
    upstream.get('/v1/items/:id', async (request, reply) => {
      calls += 1;
      if (calls === 1) return reply.code(503).send({ busy: true });
      return { id: (request.params as { id: string }).id };
    });
    const upstreamUrl = await listen(upstream);
    const client = createHttpClient({ name: 'items', baseUrl: upstreamUrl, retry: { retries: 1, initialDelayMs: 1, maxDelayMs: 5 } });
    const front = Fastify();
    await front.register(mailroomFastify);
    const seen: (string | undefined)[] = [];
    front.get('/orders/:id', async (request) => {
      seen.push(currentTraceId());
      return client.json({ path: `/v1/items/${(request.params as { id: string }).id}` });
    });
    const frontUrl = await listen(front);
    const caller = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const response = await fetch(`${frontUrl}/orders/42?x=1`, { headers: { traceparent: caller } });
    expect(await response.json()).toEqual({ id: '42' });

    const spans = await until(() => {
      const all = sdk.spans();
      return all.filter((span) => span.kind === SpanKind.SERVER).length >= 3 ? all : undefined;
    });
    const server = spans.find((span) => span.name === 'GET /orders/:id');
    const call = spans.find((span) => span.kind === SpanKind.CLIENT && span.attributes['mailroom.http.target'] === 'items');
    const upstreamSpans = spans.filter((span) => span.name === 'GET /v1/items/:id');
    expect(server?.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(parentOf(server as never)).toBe('00f067aa0ba902b7');
    expect(server?.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/orders/:id',
      'url.path': '/orders/42',
      'http.response.status_code': 200,
    });
    expect(seen).toEqual(['4bf92f3577b34da6a3ce929d0e0e4736']);
    expect(parentOf(call as never)).toBe(server?.spanContext().spanId);
    expect(call?.attributes).toMatchObject({ 'http.request.method': 'GET', 'http.response.status_code': 200, 'http.request.resend_count': 1 });
    expect(call?.events.map((event) => [event.name, event.attributes?.['error.type']])).toEqual([['http.retry', 'MAILROOM_ERR_HTTP_STATUS']]);
    // Both attempts carried the client span's context: the upstream's server spans are its children.
    expect(upstreamSpans.map((span) => parentOf(span))).toEqual([call?.spanContext().spanId, call?.spanContext().spanId]);
    expect(upstreamSpans.map((span) => span.attributes['http.response.status_code']).sort()).toEqual([200, 503]);

    const breaker = (await sdk.points(HttpMetrics.breakerState)).find((point) => point.attributes['mailroom.http.target'] === 'items');
    expect(breaker?.value).toBe(0);
    const durations = (await sdk.points(HttpMetrics.clientDuration)).filter((point) => point.attributes['mailroom.http.target'] === 'items');
    expect(durations.map((point) => [point.attributes['http.response.status_code'], (point.value as { count: number }).count])).toEqual([[200, 1]]);
    const served = (await sdk.points(HttpMetrics.serverDuration)).filter((point) => point.attributes['http.route'] === '/v1/items/:id');
    expect(served.map((point) => point.attributes['http.response.status_code']).sort()).toEqual([200, 503]);
  });

  it('sends the active span as the traceparent of the calls made inside it', async () => {
    const received: (string | undefined)[] = [];
    const upstream = Fastify();
    upstream.get('/ping', async (request) => {
      received.push(request.headers.traceparent as string | undefined);
      return {};
    });
    const client = createHttpClient({ name: 'ping', baseUrl: await listen(upstream) });
    const root = trace.getTracer('test').startSpan('job');
    const given = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await trace.getTracer('test').startActiveSpan('job', async (span) => {
      await client.request({ path: '/ping' });
      // A traceparent given with the call is its parent, over the active span.
      await client.request({ path: '/ping', traceparent: given });
      span.end();
    });
    root.end();
    const calls = await until(() => {
      const found = sdk.spans().filter((span) => span.attributes['mailroom.http.target'] === 'ping');
      return found.length === 2 ? found : undefined;
    });
    const job = sdk
      .spans()
      .find((span) => span.name === 'job' && parentOf(span) === undefined && span.spanContext().traceId === calls[0]?.spanContext().traceId);
    expect(parentOf(calls[0] as never)).toBe(job?.spanContext().spanId);
    expect(calls[1]?.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(parentOf(calls[1] as never)).toBe('b7ad6b7169203331');
    expect(received).toEqual(calls.map((call) => `00-${call.spanContext().traceId}-${call.spanContext().spanId}-01`));
  });

  it('counts operations by final state, with their duration', async () => {
    const Started = defineEvent('otel.job-started', { version: 1, schema: z.object({ id: z.string() }) });
    const Done = defineEvent('otel.job-done', { version: 1, schema: z.object({ id: z.string() }) });
    const operation = defineOperation({ name: 'otel-job', startedBy: Started, completesOn: Done, timeout: 60_000 });
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-http-otel-'));
    const database = new Database(join(dir, 'operations.db'));
    const store = createSqliteOperationStore({ database });
    const broker = new MemoryBroker();
    const tracker = createOperationTracker({ transport: createMemoryTransport({ broker }), store, operations: [operation], name: 'otel-tracker' });
    const driver = createEndpoint({ name: 'otel-driver', transport: createMemoryTransport({ broker }) });
    cleanups.push(
      () => rmSync(dir, { recursive: true, force: true }),
      () => database.close(),
      () => tracker.stop(),
    );
    await tracker.start();
    await startOperation(operation, { id: 'j1' }, { store, endpoint: driver, operationId: 'op-j1' });
    await until(async () => ((await store.read('op-j1'))?.entries.length ? true : undefined));
    await driver.publish(Done, { id: 'j1' }, { correlationId: 'op-j1' });
    const finished = await until(async () =>
      (await sdk.points(HttpMetrics.operationsFinished)).find((point) => point.attributes['mailroom.operation.name'] === 'otel-job'),
    );
    expect(finished.attributes['mailroom.operation.state']).toBe('completed');
    expect(finished.value).toBe(1);
    const duration = (await sdk.points(HttpMetrics.operationDuration)).find((point) => point.attributes['mailroom.operation.name'] === 'otel-job');
    expect((duration?.value as { count: number } | undefined)?.count).toBe(1);
  });

  it('answers /health/live always and /health/ready 200 while the endpoints are healthy, 503 once the transport is gone', async () => {
    const transport = createMemoryTransport();
    const endpoint = createEndpoint({ name: 'probed', transport }).on(defineEvent('otel.probe', { version: 1, schema: z.object({}) }), () => undefined);
    await endpoint.start();
    cleanups.push(() => endpoint.stop());
    let cacheUp = true;
    const app = Fastify();
    await app.register(healthRoutes, { endpoints: [endpoint], checks: { cache: () => ({ healthy: cacheUp, detail: cacheUp ? 'ok' : 'down' }) } });
    const base = await listen(app);
    const ready = async () => {
      const response = await fetch(`${base}/health/ready`);
      return { status: response.status, cache: response.headers.get('cache-control'), body: (await response.json()) as { status: string } };
    };
    expect(await ready()).toMatchObject({ status: 200, cache: 'no-store', body: { status: 'ready' } });
    cacheUp = false;
    expect(await ready()).toMatchObject({ status: 503, body: { status: 'not-ready', checks: { cache: { healthy: false } } } });
    cacheUp = true;
    await transport.close();
    expect(await ready()).toMatchObject({
      status: 503,
      body: {
        endpoints: [{ endpoint: 'probed', healthy: false, checks: [{ name: 'transport', healthy: false, detail: 'memory: closed' }, { name: 'consumer' }] }],
      },
    });
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
  });
});
