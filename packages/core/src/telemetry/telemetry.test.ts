// Mailroom's spans, metrics and log bindings as a real OpenTelemetry SDK records them, on the
// in-memory transport (the relay hop is checked on SQLite: packages/sqlite/test/telemetry.test.ts).
import { readFileSync } from 'node:fs';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { installOtelSdk, parentOf } from '../../test/otel-sdk.js';
import { defineEvent } from '../contract.js';
import { createEndpoint, type Endpoint, type EndpointOptions } from '../endpoint.js';
import { type Envelope, HeaderNames } from '../envelope.js';
import { ErrorCodes } from '../errors.js';
import { createMemoryTransport, MemoryBroker } from '../memory-transport.js';
import { messageOnly } from '../testing/message-only.js';
import type { Delivery } from '../transport.js';
import { EndpointTelemetry } from './endpoint-telemetry.js';
import { MessagingAttributes as A, MessagingEvents, MessagingMetrics } from './messaging-attributes.js';
import { createTelemetry, INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION } from './telemetry.js';

const sdk = installOtelSdk();
afterAll(() => sdk.shutdown());

const OrderPlaced = defineEvent('otel.OrderPlaced', { version: 1, schema: z.object({ orderId: z.string() }) });
const OrderPaid = defineEvent('otel.OrderPaid', { version: 1, schema: z.object({ orderId: z.string() }) });
const Poison = defineEvent('otel.Poison', { version: 1, schema: z.object({ n: z.number() }) });

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  sdk.reset();
});

function rig() {
  const broker = new MemoryBroker();
  return (name: string, options: Partial<EndpointOptions> = {}): Endpoint => {
    const transport = createMemoryTransport({ broker });
    const endpoint = createEndpoint({ name, transport, recoverability: { immediateRetries: 0, delayedRetries: 0 }, ...options });
    cleanups.push(async () => {
      await endpoint.stop({ timeoutMs: 200 });
      await transport.close();
    });
    return endpoint;
  };
}

async function until<T>(read: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const named = (name: string, endpoint?: string) => (span: ReadableSpan) =>
  span.name === name && (endpoint === undefined || span.attributes[A.consumerGroup] === endpoint);
const find = (name: string, endpoint?: string) => until(() => sdk.spans().find(named(name, endpoint)));

describe('telemetry', () => {
  it('uses the version of @mailroom/core as its instrumentation scope', () => {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
    expect([INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION]).toEqual([manifest.name, manifest.version]);
  });

  it('makes one trace of a publish, its handling and what the handler publishes: producer spans parent and link their consumer spans', async () => {
    const endpoint = rig();
    const orders = endpoint('orders');
    const payments = endpoint('payments').on(OrderPlaced, async (message, ctx) => {
      await ctx.publish(OrderPaid, { orderId: message.orderId });
    });
    const seen: Envelope[] = [];
    const shipping = endpoint('shipping').on(OrderPaid, (_message, ctx) => void seen.push(ctx.envelope));
    await payments.start();
    await shipping.start();
    const root = trace.getTracer('test').startSpan('POST /orders');
    const envelope = await trace.getTracer('test').startActiveSpan('POST /orders', async (span) => {
      try {
        return await orders.publish(OrderPlaced, { orderId: 'o1' }, { correlationId: 'op-1' });
      } finally {
        span.end();
      }
    });
    root.end();
    await until(() => seen[0]);
    const request = await find('POST /orders');
    const send = await find('send otel.OrderPlaced');
    const process = await find('process otel.OrderPlaced', 'payments');
    const create = await find('create otel.OrderPaid');
    const relayed = await find('send otel.OrderPaid');
    const handled = await find('process otel.OrderPaid', 'shipping');
    const ack = await find('ack otel.OrderPaid');
    const traceId = request.spanContext().traceId;
    for (const span of [send, process, create, relayed, handled, ack]) expect(span.spanContext().traceId).toBe(traceId);

    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(parentOf(send)).toBe(request.spanContext().spanId);
    expect(envelope.traceparent).toBe(`00-${traceId}-${send.spanContext().spanId}-01`);
    expect(send.attributes).toMatchObject({
      [A.system]: 'memory',
      [A.operationType]: 'send',
      [A.operationName]: 'send',
      [A.destinationName]: OrderPlaced.type,
      [A.messageId]: envelope.id,
      [A.conversationId]: 'op-1',
    });

    expect(process.kind).toBe(SpanKind.CONSUMER);
    expect(parentOf(process)).toBe(send.spanContext().spanId);
    expect(process.links.map((link) => link.context.spanId)).toEqual([send.spanContext().spanId]);
    expect(process.attributes).toMatchObject({
      [A.operationType]: 'process',
      [A.destinationName]: OrderPlaced.type,
      [A.consumerGroup]: 'payments',
      [A.messageId]: envelope.id,
      [A.conversationId]: 'op-1',
      [A.deliveryAttempt]: 1,
      [A.outcome]: 'ack',
    });

    // What the handler publishes is created inside its process span and sent after it succeeded.
    expect(create.kind).toBe(SpanKind.PRODUCER);
    expect(parentOf(create)).toBe(process.spanContext().spanId);
    expect(relayed.kind).toBe(SpanKind.CLIENT);
    expect(parentOf(relayed)).toBe(create.spanContext().spanId);
    expect(relayed.links.map((link) => link.context.spanId)).toEqual([create.spanContext().spanId]);
    expect(parentOf(handled)).toBe(create.spanContext().spanId);
    expect(seen[0]?.traceparent).toBe(`00-${traceId}-${create.spanContext().spanId}-01`);
    expect(ack.attributes).toMatchObject({ [A.operationType]: 'settle', [A.operationName]: 'ack' });
    expect(parentOf(ack)).toBe(handled.spanContext().spanId);
  });

  it('continues a traceparent and tracestate given with a message when no span is active', async () => {
    const got: Delivery[] = [];
    const transport = createMemoryTransport({ broker: new MemoryBroker() });
    cleanups.push(() => transport.close());
    const direct = createEndpoint({ name: 'direct', transport });
    const subscription = await transport.subscribe({ endpoint: 'spy', events: [OrderPlaced.type], commands: [], concurrency: 1 }, async (delivery) => {
      got.push(delivery);
      await delivery.ack();
    });
    cleanups.push(() => subscription.close());
    const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const envelope = await direct.publish(OrderPlaced, { orderId: 'o2' }, { traceparent: parent, tracestate: 'vendor=abc' });
    const delivery = await until(() => got[0]);
    const send = await until(() => sdk.spans().find((span) => span.name === 'send otel.OrderPlaced' && span.attributes[A.messageId] === envelope.id));
    expect(send.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(parentOf(send)).toBe('00f067aa0ba902b7');
    expect(delivery.headers[HeaderNames.traceparent]).toBe(`00-4bf92f3577b34da6a3ce929d0e0e4736-${send.spanContext().spanId}-01`);
    expect(delivery.headers[HeaderNames.tracestate]).toBe('vendor=abc');
  });

  it('records retries and the dead letter as span events with the error code, and counts them', async () => {
    const endpoint = rig();
    const poisoned = endpoint('poisoned', { recoverability: { immediateRetries: 1, delayedRetries: 0 } }).on(Poison, () => {
      throw new Error('robot crashed');
    });
    await poisoned.start();
    await endpoint('producer').publish(Poison, { n: 1 });
    const [first, second] = await until(() => {
      const spans = sdk.spans().filter(named('process otel.Poison'));
      return spans.length >= 2 ? spans.sort((a, b) => Number(a.attributes[A.deliveryAttempt]) - Number(b.attributes[A.deliveryAttempt])) : undefined;
    });
    expect(first?.spanContext().traceId).toBe(second?.spanContext().traceId);
    expect(first?.status.code).toBe(SpanStatusCode.ERROR);
    expect(first?.events.map((event) => [event.name, event.attributes?.[A.errorType], event.attributes?.[A.deliveryAttempt]])).toEqual([
      ['exception', undefined, undefined],
      [MessagingEvents.retry, ErrorCodes.HANDLER_FAILED, 1],
    ]);
    expect(first?.attributes[A.outcome]).toBe('retry');
    expect(second?.events.map((event) => event.name)).toContain(MessagingEvents.deadLetter);
    expect(second?.events.find((event) => event.name === MessagingEvents.deadLetter)?.attributes?.[A.errorType]).toBe(ErrorCodes.HANDLER_FAILED);
    expect(second?.attributes).toMatchObject({ [A.outcome]: 'dead_letter', [A.errorType]: ErrorCodes.HANDLER_FAILED, [A.deliveryAttempt]: 2 });
    await find('dead_letter otel.Poison');

    const value = async (name: string) => (await sdk.points(name)).filter((p) => p.attributes[A.consumerGroup] === 'poisoned');
    expect((await value(MessagingMetrics.retries)).map((p) => [p.attributes[A.errorType], p.value])).toEqual([[ErrorCodes.HANDLER_FAILED, 1]]);
    expect((await value(MessagingMetrics.deadLetters)).map((p) => [p.attributes[A.errorType], p.value])).toEqual([[ErrorCodes.HANDLER_FAILED, 1]]);
    expect((await value(MessagingMetrics.consumedMessages)).map((p) => p.value)).toEqual([2]);
    const durations = await value(MessagingMetrics.processDuration);
    expect(durations.map((p) => [p.attributes[A.outcome], (p.value as { count: number }).count]).sort()).toEqual([
      ['dead_letter', 1],
      ['retry', 1],
    ]);
    expect((await sdk.points(MessagingMetrics.sentMessages)).find((p) => p.attributes[A.destinationName] === Poison.type)?.value).toBe(1);
  });

  it('binds ctx.log to trace_id, span_id, the correlation id, the message id and type (pino lines carry them)', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const endpoint = rig();
    const consumer = endpoint('logged', { logger }).on(OrderPlaced, (_message, ctx) => ctx.log.info({}, 'handling'));
    await consumer.start();
    const envelope = await endpoint('producer').publish(OrderPlaced, { orderId: 'o3' }, { correlationId: 'op-3' });
    const line = await until(() => lines.find((l) => l.msg === 'handling'));
    const process = await find('process otel.OrderPlaced', 'logged');
    expect(line).toMatchObject({
      endpoint: 'logged',
      trace_id: process.spanContext().traceId,
      span_id: process.spanContext().spanId,
      correlationId: 'op-3',
      messageId: envelope.id,
      type: OrderPlaced.type,
      attempt: 1,
    });
  });

  it('records nothing with telemetry: false', async () => {
    const endpoint = rig();
    const seen: Envelope[] = [];
    const quiet = endpoint('quiet', { telemetry: false }).on(OrderPlaced, (_m, ctx) => void seen.push(ctx.envelope));
    await quiet.start();
    await endpoint('loud-less', { telemetry: false }).publish(OrderPlaced, { orderId: 'o4' });
    await until(() => seen[0]);
    expect(sdk.spans()).toEqual([]);
    expect(seen[0]?.traceparent).toBeUndefined();
  });

  it('reports queue depth and dead letters of its own queue as gauges at each collection', async () => {
    const endpoint = rig();
    const failing = endpoint('gauged').on(Poison, () => {
      throw new Error('no');
    });
    await failing.start();
    await endpoint('producer').publish(Poison, { n: 2 });
    await find('dead_letter otel.Poison');
    const gauge = async (name: string) =>
      (await sdk.points(name)).find((point) => point.attributes[A.endpoint] === 'gauged' && point.attributes[A.system] === 'memory')?.value;
    expect(await gauge(MessagingMetrics.queueDeadLetters)).toBe(1);
    expect(await gauge(MessagingMetrics.queueDepth)).toBe(0);
  });

  it('reports no queue gauges for an endpoint whose transport has no management part, and counts its dead letters as usual', async () => {
    const broker = new MemoryBroker();
    const transport = createMemoryTransport({ broker });
    const failing = createEndpoint({ name: 'ungauged', transport: messageOnly(transport), recoverability: { immediateRetries: 0, delayedRetries: 0 } });
    failing.on(Poison, () => {
      throw new Error('no');
    });
    cleanups.push(async () => {
      await failing.stop({ timeoutMs: 200 });
      await transport.close();
    });
    await failing.start();
    const producer = createEndpoint({ name: 'producer', transport });
    cleanups.push(() => producer.stop({ timeoutMs: 200 }));
    await producer.publish(Poison, { n: 3 });
    await until(() => sdk.spans().find(named('dead_letter otel.Poison')));
    const ours = async (name: string) => (await sdk.points(name)).filter((point) => point.attributes[A.endpoint] === 'ungauged');
    expect(await ours(MessagingMetrics.queueDepth)).toEqual([]);
    expect(await ours(MessagingMetrics.queueDeadLetters)).toEqual([]);
    expect(
      (await sdk.points(MessagingMetrics.deadLetters)).filter((point) => point.attributes[A.consumerGroup] === 'ungauged').map((point) => point.value),
    ).toEqual([1]);
    // Nothing is observed at all (no callback that would fail at each collection), unlike on the full transport.
    const telemetry = new EndpointTelemetry(createTelemetry(), 'ungauged', 'memory', (type) => type);
    expect(telemetry.observeQueue(messageOnly(transport))).toBeUndefined();
    const stop = telemetry.observeQueue(transport);
    expect(stop).toBeTypeOf('function');
    stop?.();
  });

  it('reports health: the transport connected, the consumer running', async () => {
    const broker = new MemoryBroker();
    const transport = createMemoryTransport({ broker });
    const endpoint = createEndpoint({ name: 'healthy', transport }).on(OrderPlaced, () => undefined);
    expect(await endpoint.health()).toMatchObject({
      healthy: false,
      checks: [
        { name: 'transport', healthy: true },
        { name: 'consumer', healthy: false },
      ],
    });
    await endpoint.start();
    expect(await endpoint.health()).toMatchObject({ endpoint: 'healthy', healthy: true });
    await transport.close();
    expect(await endpoint.health()).toMatchObject({
      healthy: false,
      checks: [{ name: 'transport', healthy: false, detail: 'memory: closed' }, { healthy: true }],
    });
    await endpoint.stop();
  });
});
