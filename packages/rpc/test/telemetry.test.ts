// @mailroom/rpc under the real OpenTelemetry SDK: a call is a CLIENT span whose context travels in
// the call's headers, the server's span (the HTTP server span of mailroomFastify, renamed) is its
// child with the RPC attributes, retries are events on the client span, failures carry their codes.
import type { AddressInfo } from 'node:net';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { installOtelSdk, parentOf } from '../../core/test/otel-sdk.js';
import { createRpcServer, createRpcTransport, RpcErrorCodes } from '../src/index.js';
import { StockService } from './gen/mailroom/rpc/testing/v1/stock_pb.js';

const sdk = installOtelSdk();
afterAll(() => sdk.shutdown());
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  sdk.reset();
});

async function stockServer() {
  let calls = 0;
  const app = await createRpcServer({
    routes: (router) =>
      router.service(StockService, {
        getStock: async (request) => {
          calls += 1;
          if (request.sku === 'flaky' && calls === 1) throw new ConnectError('busy', Code.Unavailable);
          if (request.sku === 'gone') throw new ConnectError('no such product', Code.NotFound);
          return { sku: request.sku, stock: 1 };
        },
        setStock: async (request) => ({ sku: request.sku, stock: request.stock }),
        reserve: async (request) => ({ sku: request.sku, remaining: 0 }),
      }),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  cleanups.push(() => app.close());
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

describe('@mailroom/rpc telemetry', () => {
  it('joins one trace: the caller span -> the CLIENT span (a retry event) -> the SERVER span, with the RPC attributes', async () => {
    const baseUrl = await stockServer();
    const transport = createRpcTransport({ name: 'stock', baseUrl, retry: { retries: 2, initialDelayMs: 1, maxDelayMs: 5 } });
    cleanups.push(() => transport.close());
    const client = createClient(StockService, transport);
    await trace.getTracer('test').startActiveSpan('caller-active', async (active) => {
      await client.getStock({ sku: 'flaky' });
      active.end();
    });
    const spans = sdk.spans();
    const call = spans.find((span) => span.kind === SpanKind.CLIENT && span.attributes['mailroom.rpc.target'] === 'stock');
    const caller = spans.find((span) => span.name === 'caller-active');
    expect(call?.name).toBe('mailroom.rpc.testing.v1.StockService/GetStock');
    expect(parentOf(call as NonNullable<typeof call>)).toBe(caller?.spanContext().spanId);
    expect(call?.attributes).toMatchObject({
      'rpc.system': 'grpc',
      'rpc.service': 'mailroom.rpc.testing.v1.StockService',
      'rpc.method': 'GetStock',
      'rpc.grpc.status_code': 0,
    });
    expect(call?.events.map((event) => event.name)).toEqual(['rpc.retry']);
    const served = spans.filter((span) => span.kind === SpanKind.SERVER && span.spanContext().traceId === call?.spanContext().traceId);
    expect(served).toHaveLength(2); // the failed attempt and the retry, each a child of the client span
    for (const span of served) {
      expect(parentOf(span)).toBe(call?.spanContext().spanId);
      expect(span.name).toBe('mailroom.rpc.testing.v1.StockService/GetStock');
      expect(span.attributes['rpc.method']).toBe('GetStock');
    }
    expect(served.map((span) => span.attributes['rpc.grpc.status_code']).sort()).toEqual([0, Code.Unavailable]);
    expect(served.find((span) => span.attributes['rpc.grpc.status_code'] === Code.Unavailable)?.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('marks a failed call on the client span with its gRPC code and Mailroom code', async () => {
    const baseUrl = await stockServer();
    const transport = createRpcTransport({ name: 'stock', baseUrl });
    cleanups.push(() => transport.close());
    await expect(createClient(StockService, transport).getStock({ sku: 'gone' })).rejects.toThrow();
    const call = sdk.spans().find((span) => span.kind === SpanKind.CLIENT);
    expect(call?.attributes['rpc.grpc.status_code']).toBe(Code.NotFound);
    expect(call?.attributes['error.type']).toBe(RpcErrorCodes.RPC_STATUS);
    expect(call?.status.code).toBe(SpanStatusCode.ERROR);
    // NOT_FOUND is the server's answer, not its failure: its span is not an error.
    const served = sdk.spans().find((span) => span.kind === SpanKind.SERVER);
    expect(served?.status.code).not.toBe(SpanStatusCode.ERROR);
  });
});
