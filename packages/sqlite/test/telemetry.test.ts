// The outbox hop in a trace, with the real OpenTelemetry SDK: a message written in a transaction
// carries its creation context in its outbox row, and the relay's send span continues that trace.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uniqueName, waitUntil } from '@mailroom/conformance';
import { MessagingAttributes as A, createEndpoint, defineEvent, type Endpoint, MessagingMetrics } from '@mailroom/core';
import { SpanKind, trace } from '@opentelemetry/api';
import type Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { installOtelSdk, parentOf } from '../../core/test/otel-sdk.js';
import { createSqlitePersistence, createSqliteTransport } from '../src/index.js';
import { openDatabase } from './persistence-fixture.js';

const sdk = installOtelSdk();
afterAll(() => sdk.shutdown());

const dir = mkdtempSync(join(tmpdir(), 'mailroom-sqlite-otel-'));
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SQLite outbox and relay in a trace', () => {
  it('continues the producing transaction: create span -> relay send span (child and link) -> process span; outbox and queue metrics', async () => {
    const Placed = defineEvent(uniqueName('otel.Placed'), { version: 1, schema: z.object({ id: z.string() }) });
    const transport = createSqliteTransport({ path: join(dir, 'broker.db') });
    const db: Database.Database = openDatabase(join(dir, 'orders.db'));
    const orders: Endpoint<Database.Database> = createEndpoint({
      name: uniqueName('orders'),
      transport,
      persistence: createSqlitePersistence({ database: db }),
    });
    const seen: string[] = [];
    const shipping = createEndpoint({ name: uniqueName('shipping'), transport }).on(Placed, (_message, ctx) => void seen.push(ctx.envelope.id));
    cleanups.push(
      () => transport.close(),
      () => void db.close(),
      () => orders.stop(),
      () => shipping.stop(),
    );
    await orders.start();
    await shipping.start();

    const envelope = await trace.getTracer('test').startActiveSpan('POST /orders', async (span) => {
      try {
        return await orders.transaction((scope) => scope.publish(Placed, { id: 'o1' }));
      } finally {
        span.end();
      }
    });
    await waitUntil(() => seen.length === 1, 10_000);
    const spans = sdk.spans();
    const byName = (name: string) => spans.find((span) => span.name === name && span.attributes[A.messageId] === envelope.id);
    await waitUntil(() => sdk.spans().some((span) => span.name === `process ${Placed.type}`), 5000);
    const request = sdk.spans().find((span) => span.name === 'POST /orders');
    const create = byName(`create ${Placed.type}`);
    const send = byName(`send ${Placed.type}`);
    const process = sdk.spans().find((span) => span.name === `process ${Placed.type}` && span.attributes[A.messageId] === envelope.id);
    expect(create?.kind).toBe(SpanKind.PRODUCER);
    expect(parentOf(create as never)).toBe(request?.spanContext().spanId);
    expect(send?.kind).toBe(SpanKind.CLIENT);
    expect(send?.attributes[A.system]).toBe('sqlite');
    expect(send?.attributes[A.endpoint]).toBe(orders.name);
    expect(parentOf(send as never)).toBe(create?.spanContext().spanId);
    expect(send?.links.map((link) => link.context.spanId)).toEqual([create?.spanContext().spanId]);
    expect(parentOf(process as never)).toBe(create?.spanContext().spanId);
    for (const span of [create, send, process]) expect(span?.spanContext().traceId).toBe(request?.spanContext().traceId);

    const lag = (await sdk.points(MessagingMetrics.outboxLag)).find((point) => point.attributes[A.endpoint] === orders.name);
    expect((lag?.value as { count: number } | undefined)?.count).toBe(1);
    const backlog = (await sdk.points(MessagingMetrics.outboxBacklog)).find((point) => point.attributes[A.endpoint] === orders.name);
    expect(backlog?.value).toBe(0);
    const health = await orders.health();
    expect(health).toMatchObject({
      healthy: true,
      checks: [
        { name: 'transport', healthy: true },
        { name: 'consumer', healthy: true },
        { name: 'relay', healthy: true },
      ],
    });
  });

  it('reports the age of the oldest waiting message and turns unhealthy when the outbox lags', async () => {
    const Waiting = defineEvent(uniqueName('otel.Waiting'), { version: 1, schema: z.object({ n: z.number() }) });
    const transport = createSqliteTransport({ path: join(dir, 'broker2.db') });
    const db: Database.Database = openDatabase(join(dir, 'writer.db'));
    // This process only writes: another relays (here: nobody, so the row waits).
    const writer = createEndpoint({ name: uniqueName('writer'), transport, persistence: createSqlitePersistence({ database: db, relay: false }) });
    const consumer = createEndpoint({ name: uniqueName('slow'), transport }).on(Waiting, () => undefined);
    cleanups.push(
      () => transport.close(),
      () => void db.close(),
      () => writer.stop(),
    );
    await consumer.start();
    await consumer.stop();
    await writer.start();
    await writer.publish(Waiting, { n: 1 });
    await writer.transaction((scope) => scope.publish(Waiting, { n: 2 }));
    await new Promise((resolve) => setTimeout(resolve, 60));
    const queue = (await transport.queues()).find((info) => info.endpoint === consumer.name);
    expect(queue?.depth).toBe(1);
    expect(queue?.oldestMessageAgeMs).toBeGreaterThanOrEqual(60);
    const health = await writer.health({ maxRelayLagMs: 10 });
    // Not relayed here, so not this process's lag: reported, not failed.
    expect(health.checks.find((check) => check.name === 'relay')).toMatchObject({ healthy: true, detail: expect.stringContaining('1 unsent') });
  });
});
