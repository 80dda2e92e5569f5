// The resilient transport against a real, fault-injecting server: retries only idempotent methods,
// per-attempt timeouts and call deadlines, the circuit breaker and the bulkhead, network failures,
// cancellation, and correlation / trace context propagation.
import { setTimeout as sleep } from 'node:timers/promises';
import { Code, createClient } from '@connectrpc/connect';
import { waitUntil } from '@mailroom/conformance';
import { withCorrelation } from '@mailroom/http';
import { afterEach, describe, expect, it } from 'vitest';
import { createRpcTransport, isRpcError, RpcErrorCodes, type RpcRetryEvent, type RpcTransport, type RpcTransportOptions } from '../src/index.js';
import { StockService } from './gen/mailroom/rpc/testing/v1/stock_pb.js';
import { startStockServer } from './support/fault-stock-server.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function rig(options: Partial<RpcTransportOptions> = {}) {
  const server = await startStockServer();
  const transport = createRpcTransport({ name: 'stock', baseUrl: server.url, retry: { retries: 2, initialDelayMs: 1, maxDelayMs: 5 }, ...options });
  cleanups.push(() => server.down());
  cleanups.push(() => transport.close());
  const retries: RpcRetryEvent[] = [];
  transport.onRetry((event) => retries.push(event));
  return { server, transport, stock: createClient(StockService, transport), retries };
}

function failure(promise: Promise<unknown>) {
  return promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (error: unknown) => {
      if (!isRpcError(error)) throw error;
      return error;
    },
  );
}

describe('retries', () => {
  it('retries a NO_SIDE_EFFECTS method on Unavailable until it answers', async () => {
    const { server, stock, retries } = await rig();
    server.failNext.push(Code.Unavailable, Code.Unavailable);
    expect(await stock.getStock({ sku: 'mug' })).toMatchObject({ sku: 'mug', stock: 10 });
    expect(server.callsOf('GetStock')).toHaveLength(3);
    expect(retries.map((r) => [r.attempt, r.service, r.method])).toEqual([
      [1, 'mailroom.rpc.testing.v1.StockService', 'GetStock'],
      [2, 'mailroom.rpc.testing.v1.StockService', 'GetStock'],
    ]);
  });

  it('retries an IDEMPOTENT method', async () => {
    const { server, stock } = await rig();
    server.failNext.push(Code.Internal);
    expect(await stock.setStock({ sku: 'tee', stock: 3 })).toMatchObject({ sku: 'tee', stock: 3 });
    expect(server.callsOf('SetStock')).toHaveLength(2);
  });

  it('never retries a method with side effects, unless the call carries an idempotency key', async () => {
    const { server, stock, retries } = await rig();
    server.failNext.push(Code.Unavailable);
    const error = await failure(stock.reserve({ sku: 'mug', quantity: 1 }));
    expect(error).toMatchObject({ code: RpcErrorCodes.RPC_STATUS, rpcCode: Code.Unavailable, transient: true, idempotent: false, attempts: 1 });
    expect(server.callsOf('Reserve')).toHaveLength(1);
    expect(retries).toHaveLength(0);

    server.failNext.push(Code.Unavailable);
    expect(await stock.reserve({ sku: 'mug', quantity: 1 }, { headers: { 'idempotency-key': 'order-7' } })).toMatchObject({ remaining: 9 });
    expect(server.callsOf('Reserve').map((call) => call.idempotencyKey)).toEqual([null, 'order-7', 'order-7']);
  });

  it('does not retry an answer: NotFound fails at once, not transient', async () => {
    const { server, stock } = await rig();
    const error = await failure(stock.getStock({ sku: 'unicorn' }));
    expect(error).toMatchObject({ code: RpcErrorCodes.RPC_STATUS, rpcCode: Code.NotFound, transient: false, attempts: 1 });
    expect(error.message).toBe('stock mailroom.rpc.testing.v1.StockService/GetStock answered NotFound: no product "unicorn"');
    expect(server.callsOf('GetStock')).toHaveLength(1);
  });
});

describe('timeouts', () => {
  it('stops an attempt after timeoutMs, tells the server its deadline, and retries an idempotent method', async () => {
    const { server, stock } = await rig({ timeoutMs: 150, retry: { retries: 1, initialDelayMs: 1, maxDelayMs: 1 } });
    server.mode = 'slow';
    const started = performance.now();
    const error = await failure(stock.getStock({ sku: 'mug' }));
    expect(performance.now() - started).toBeGreaterThanOrEqual(2 * 150 - 5);
    expect(error).toMatchObject({ code: RpcErrorCodes.RPC_TIMEOUT, transient: true, attempts: 2 });
    const calls = server.callsOf('GetStock');
    expect(calls).toHaveLength(2);
    for (const call of calls) expect(call.timeoutMs).toBeLessThanOrEqual(150);
    await waitUntil(
      () => calls.every((call) => call.cancelled),
      5000,
      () => 'the server saw every timed-out attempt cancelled',
    );
  });

  it("takes a call's own timeoutMs as the deadline of the whole call, retries included", async () => {
    const { server, stock, transport, retries } = await rig({ timeoutMs: 2000, retry: { retries: 5, initialDelayMs: 1, maxDelayMs: 1 } });
    server.mode = 'slow';
    const error = await failure(stock.getStock({ sku: 'mug' }, { timeoutMs: 200 }));
    expect(error).toMatchObject({ code: RpcErrorCodes.RPC_TIMEOUT, attempts: 1 });
    // The one attempt had the call's 200 ms, not the transport's 2 s; with no time left, no retry.
    // (On a loaded machine the deadline may pass before the server sees the request: at most one call.)
    const calls = server.callsOf('GetStock');
    expect(calls.length).toBeLessThanOrEqual(1);
    for (const call of calls) expect(call.timeoutMs ?? 0).toBeLessThanOrEqual(200);
    expect(retries).toHaveLength(0);
    expect(transport.breakerState).toBe('closed');
    server.failOnlySku = 'tee'; // not a late handler of the timed-out call
    server.failNext.push(Code.Unavailable);
    server.mode = 'ok';
    expect(await stock.getStock({ sku: 'tee' }, { timeoutMs: 5000 })).toMatchObject({ stock: 5 });
    expect(retries).toHaveLength(1);
  });
});

describe('circuit breaker', () => {
  it('opens after consecutive failures, fails fast without calling, half-opens after halfOpenAfterMs and closes on a success', async () => {
    const { server, stock, transport } = await rig({ retry: false, breaker: { consecutiveFailures: 3, halfOpenAfterMs: 200 } });
    const states: string[] = [];
    transport.onBreakerStateChange((change) => states.push(`${change.target}:${change.state}`));
    server.failNext.push(Code.Unavailable, Code.Internal, Code.DeadlineExceeded);
    for (let i = 0; i < 3; i++) await failure(stock.getStock({ sku: 'mug' }));
    expect(transport.breakerState).toBe('open');
    const open = await failure(stock.getStock({ sku: 'mug' }));
    expect(open).toMatchObject({ code: RpcErrorCodes.RPC_CIRCUIT_OPEN, breakerOpen: true, transient: true, attempts: 0 });
    expect(server.callsOf('GetStock')).toHaveLength(3);
    await sleep(250);
    expect(await stock.getStock({ sku: 'mug' })).toMatchObject({ stock: 10 });
    expect(transport.breakerState).toBe('closed');
    expect(states).toEqual(['stock:open', 'stock:half-open', 'stock:closed']);
  });

  it('does not count answers (NotFound, ResourceExhausted) against the breaker', async () => {
    const { server, stock, transport } = await rig({ retry: false, breaker: { consecutiveFailures: 2, halfOpenAfterMs: 60_000 } });
    server.failNext.push(Code.ResourceExhausted, Code.ResourceExhausted, Code.NotFound, Code.InvalidArgument);
    for (let i = 0; i < 4; i++) await failure(stock.getStock({ sku: 'mug' }));
    expect(transport.breakerState).toBe('closed');
  });

  it('is shared by every client on the transport', async () => {
    const { server, transport } = await rig({ retry: false, breaker: { consecutiveFailures: 2, halfOpenAfterMs: 60_000 } });
    const first = createClient(StockService, transport);
    const second = createClient(StockService, transport);
    server.failNext.push(Code.Unavailable, Code.Unavailable);
    await failure(first.getStock({ sku: 'mug' }));
    await failure(second.setStock({ sku: 'mug', stock: 1 }));
    expect(await failure(first.reserve({ sku: 'mug', quantity: 1 }))).toMatchObject({ code: RpcErrorCodes.RPC_CIRCUIT_OPEN });
  });
});

describe('bulkhead', () => {
  it('refuses a call beyond limit + queue without sending it', async () => {
    const { server, stock } = await rig({ retry: false, bulkhead: { limit: 1, queue: 1 }, timeoutMs: 2000 });
    server.mode = 'slow';
    server.slowMs = 300;
    const inFlight = [stock.getStock({ sku: 'mug' }), stock.getStock({ sku: 'mug' })];
    const refused = await failure(stock.getStock({ sku: 'mug' }));
    expect(refused).toMatchObject({ code: RpcErrorCodes.RPC_BULKHEAD_FULL, transient: true, attempts: 0 });
    await Promise.all(inFlight);
    expect(server.callsOf('GetStock')).toHaveLength(2);
  });
});

describe('network failures and cancellation', () => {
  it('gives RPC_NETWORK (ECONNREFUSED) when the server is down, retries it, and counts it against the breaker', async () => {
    const { server, stock, transport, retries } = await rig({ breaker: { consecutiveFailures: 3, halfOpenAfterMs: 60_000 } });
    await server.down();
    const error = await failure(stock.getStock({ sku: 'mug' }));
    expect(error).toMatchObject({ code: RpcErrorCodes.RPC_NETWORK, transient: true, attempts: 3 });
    expect(error.message).toContain('ECONNREFUSED');
    expect(retries).toHaveLength(2);
    expect(transport.breakerState).toBe('open');
    await server.up();
    expect(await failure(stock.getStock({ sku: 'mug' }))).toMatchObject({ code: RpcErrorCodes.RPC_CIRCUIT_OPEN });
  });

  it('gives a transient, breaker-counted failure when the connection drops during the call', async () => {
    for (const httpVersion of ['2', '1.1'] as const) {
      const { server, stock, transport } = await rig({
        retry: false,
        protocol: 'connect',
        httpVersion,
        breaker: { consecutiveFailures: 1, halfOpenAfterMs: 100 },
      });
      server.mode = 'drop';
      const error = await failure(stock.getStock({ sku: 'mug' }));
      expect(error, `HTTP/${httpVersion}`).toMatchObject({ code: RpcErrorCodes.RPC_NETWORK, transient: true, attempts: 1 });
      expect(transport.breakerState).toBe('open');
      server.mode = 'ok';
      await sleep(150);
      expect(await stock.getStock({ sku: 'mug' })).toMatchObject({ stock: 10 });
    }
  });

  it("gives RPC_ABORTED when the caller's signal cancels the call: not retried, not counted by the breaker", async () => {
    const { server, stock, transport, retries } = await rig({ breaker: { consecutiveFailures: 1, halfOpenAfterMs: 60_000 } });
    server.mode = 'slow';
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await failure(stock.getStock({ sku: 'mug' }, { signal: controller.signal }));
    expect(error).toMatchObject({ code: RpcErrorCodes.RPC_ABORTED, transient: false });
    expect(retries).toHaveLength(0);
    expect(transport.breakerState).toBe('closed');
    await waitUntil(
      () => server.callsOf('GetStock')[0]?.cancelled === true,
      5000,
      () => 'the server saw the call cancelled',
    );
  });
});

describe('correlation and trace context', () => {
  it('sends the current correlation id and a child traceparent (same trace, new span)', async () => {
    const { stock } = await rig();
    const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const answer = await withCorrelation({ correlationId: 'order-42', traceparent: parent }, () => stock.getStock({ sku: 'mug' }));
    expect(answer.correlationId).toBe('order-42');
    const [, trace, span, flags] = answer.traceparent.split('-');
    expect(trace).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(flags).toBe('01');
    expect(span).toMatch(/^[0-9a-f]{16}$/);
    expect(span).not.toBe('00f067aa0ba902b7');
  });

  it('starts a new trace without a current correlation, and lets headers set on the call win', async () => {
    const { stock } = await rig({ headers: { authorization: 'Bearer secret' } });
    const fresh = await stock.getStock({ sku: 'mug' });
    expect(fresh.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const explicit = await withCorrelation({ correlationId: 'ambient', traceparent: undefined }, () =>
      stock.getStock({ sku: 'mug' }, { headers: { 'X-Correlation-Id': 'explicit', traceparent: '00-11111111111111111111111111111111-2222222222222222-00' } }),
    );
    expect(explicit).toMatchObject({ correlationId: 'explicit', traceparent: '00-11111111111111111111111111111111-2222222222222222-00' });
  });
});

describe('configuration', () => {
  it('fails fast with MAILROOM_ERR_RPC_CONFIG naming what to fix', () => {
    const bad: [Partial<RpcTransportOptions>, RegExp][] = [
      [{ name: 'bad name!' }, /name "bad name!" is invalid/],
      [{ name: 'x', baseUrl: 'not a url' }, /baseUrl "not a url" is not an absolute URL/],
      [{ name: 'x', baseUrl: 'ftp://host' }, /must use http: or https:/],
      [{ name: 'x', baseUrl: 'http://h', protocol: 'grpc', httpVersion: '1.1' }, /gRPC needs HTTP\/2/],
      [{ name: 'x', baseUrl: 'http://h', protocol: 'soap' as never }, /protocol must be/],
      [{ name: 'x', baseUrl: 'http://h', timeoutMs: 0 }, /timeoutMs must be a whole number >= 1/],
      [{ name: 'x', baseUrl: 'http://h', breaker: { failureRate: 2 } }, /breaker.failureRate must be a fraction/],
      [{ name: 'x', baseUrl: 'http://user:pw@h:1/?q' }, /must not have a query/],
    ];
    for (const [options, message] of bad) {
      let thrown: unknown;
      try {
        createRpcTransport(options as RpcTransportOptions);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, JSON.stringify(options)).toMatchObject({ code: RpcErrorCodes.RPC_CONFIG, message: expect.stringMatching(message) });
    }
  });

  it('wraps a Connect transport you bring', async () => {
    const server = await startStockServer();
    cleanups.push(() => server.down());
    const own = createRpcTransport({ name: 'plain', baseUrl: server.url, retry: false, breaker: false, bulkhead: false });
    cleanups.push(() => own.close());
    const wrapped: RpcTransport = createRpcTransport({ name: 'wrapped', transport: own, breaker: { consecutiveFailures: 1, halfOpenAfterMs: 60_000 } });
    server.failNext.push(Code.Unavailable, Code.Unavailable, Code.Unavailable);
    const stock = createClient(StockService, wrapped);
    await failure(stock.reserve({ sku: 'mug', quantity: 1 }));
    expect(wrapped.breakerState).toBe('open');
  });
});
