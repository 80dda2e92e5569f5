import { getEventListeners } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { isMailroomError } from '@mailroom/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type BreakerState, createHttpClient, type HttpError, HttpErrorCodes, isHttpError, withCorrelation } from '../src/index.js';
import { failure } from './support/failure.js';
import { type FaultUpstream, startUpstream } from './support/fault-upstream.js';

let upstream: FaultUpstream;

beforeAll(async () => {
  upstream = await startUpstream();
});
afterAll(async () => {
  await upstream.close();
});
beforeEach(async () => {
  upstream.mode = 'ok';
  upstream.hits.length = 0;
  upstream.observe = () => undefined;
  await upstream.up();
});

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] as number;
}

describe('resilient HTTP client against a fault-injecting upstream', () => {
  it('opens the breaker after its threshold, fails fast while open, probes once half-open, closes on success', async () => {
    const client = createHttpClient({
      name: 'inventory',
      baseUrl: upstream.url,
      retry: false,
      timeoutMs: 1000,
      breaker: { consecutiveFailures: 3, halfOpenAfterMs: 500 },
    });
    const states: BreakerState[] = [];
    client.onBreakerStateChange((change) => states.push(change.state));
    upstream.observe = () => client.breakerState;

    // Healthy baseline on loopback, for comparison with failing fast.
    const healthy: number[] = [];
    for (let i = 0; i < 300; i++) {
      const started = performance.now();
      await client.request({ path: '/items/0' });
      healthy.push(performance.now() - started);
    }
    healthy.sort((a, b) => a - b);
    console.log(
      `[http] healthy loopback call through all policies: p50 ${(percentile(healthy, 50) * 1000).toFixed(0)} µs, p99 ${(percentile(healthy, 99) * 1000).toFixed(0)} µs (300 calls)`,
    );
    upstream.hits.length = 0;

    // Down: connections refused. The first three calls fail with a network error, then the breaker opens.
    await upstream.down();
    for (let i = 0; i < 3; i++) {
      const error = await failure(client.request({ path: '/items/1' }));
      expect(error.code).toBe(HttpErrorCodes.HTTP_NETWORK);
      expect(error).toMatchObject({ target: 'inventory', transient: true, breakerOpen: false, attempts: 1 });
    }
    expect(client.breakerState).toBe('open');

    // Open: calls fail fast without touching the network. Measured, printed, not asserted.
    // The loop stops well before the breaker may half-open (500 ms), however slow the machine is.
    const samples: number[] = [];
    const opened = performance.now();
    for (let i = 0; i < 2000 && performance.now() - opened < 250; i++) {
      const started = performance.now();
      const error = await failure(client.request({ path: '/items/1' }));
      samples.push(performance.now() - started);
      expect(error).toMatchObject({ code: HttpErrorCodes.HTTP_CIRCUIT_OPEN, breakerOpen: true, transient: true, attempts: 0, status: undefined });
    }
    samples.sort((a, b) => a - b);
    const mean = samples.reduce((sum, value) => sum + value, 0) / samples.length;
    console.log(
      `[http] breaker open: ${samples.length} calls failed fast, mean ${(mean * 1000).toFixed(1)} µs, p50 ${(percentile(samples, 50) * 1000).toFixed(1)} µs, p99 ${(percentile(samples, 99) * 1000).toFixed(1)} µs per call`,
    );

    // Half-open with the upstream up but failing: exactly one probe goes through, fails, the breaker reopens.
    await upstream.up();
    upstream.mode = 'failing';
    await new Promise((resolve) => setTimeout(resolve, 550));
    const probeFailures = await Promise.all([1, 2, 3].map(() => failure(client.request({ path: '/items/2' }))));
    expect(upstream.hits.filter((hit) => hit.note === 'half-open')).toHaveLength(1);
    expect(probeFailures.map((error) => error.code).sort()).toEqual([
      HttpErrorCodes.HTTP_CIRCUIT_OPEN,
      HttpErrorCodes.HTTP_CIRCUIT_OPEN,
      HttpErrorCodes.HTTP_STATUS,
    ]);
    expect(client.breakerState).toBe('open');

    // Half-open with the upstream healthy: one probe, it succeeds, the breaker closes, everyone is served.
    upstream.mode = 'ok';
    upstream.hits.length = 0;
    await new Promise((resolve) => setTimeout(resolve, 550));
    const results = await Promise.all([1, 2, 3, 4, 5].map((i) => client.json<{ id: string }>({ path: `/items/${i}` })));
    expect(results.map((result) => result.id)).toEqual(['1', '2', '3', '4', '5']);
    expect(upstream.hits.filter((hit) => hit.note === 'half-open')).toHaveLength(1);
    expect(upstream.hits).toHaveLength(5);
    expect(client.breakerState).toBe('closed');
    expect(states).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
  });

  it('cuts each attempt of a slow upstream at timeoutMs and retries idempotent calls', async () => {
    upstream.mode = 'slow';
    upstream.slowMs = 400;
    const client = createHttpClient({ name: 'slow', baseUrl: upstream.url, timeoutMs: 100, retry: { retries: 1, initialDelayMs: 10, maxDelayMs: 20 } });
    const retries: number[] = [];
    client.onRetry((event) => retries.push(event.attempt));
    const started = performance.now();
    const error = await failure(client.request({ path: '/items/1' }));
    const elapsed = performance.now() - started;
    expect(error).toMatchObject({ code: HttpErrorCodes.HTTP_TIMEOUT, transient: true, attempts: 2, target: 'slow' });
    expect(retries).toEqual([1]);
    expect(elapsed).toBeGreaterThanOrEqual(200); // two whole attempts of 100 ms each
    console.log(`[http] slow upstream (400 ms) with timeoutMs 100 and 1 retry: failed after ${elapsed.toFixed(0)} ms`);
  });

  it('absorbs a 50% 5xx upstream by retrying idempotent calls; POST is retried only with an idempotency key', async () => {
    upstream.mode = 'flaky';
    const client = createHttpClient({
      name: 'flaky',
      baseUrl: upstream.url,
      retry: { retries: 2, initialDelayMs: 1, maxDelayMs: 5 },
      breaker: { consecutiveFailures: 3, halfOpenAfterMs: 10_000 },
    });
    const items = [];
    for (let i = 0; i < 10; i++) items.push(await client.json<{ id: string }>({ path: `/items/${i}` }));
    expect(items.map((item) => item.id)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(upstream.hits).toHaveLength(20); // each GET: one 503, one retry that succeeds

    upstream.hits.length = 0;
    const outcomes = [];
    for (let i = 0; i < 10; i++) {
      outcomes.push(await client.request({ method: 'POST', path: '/charges', json: { orderId: `o${i}`, amount: 5 } }).catch((error: HttpError) => error));
    }
    const refused = outcomes.filter((outcome) => isHttpError(outcome));
    expect(refused).toHaveLength(5); // every second request answers 503, and POST without a key is never retried
    for (const error of refused) expect(error).toMatchObject({ code: HttpErrorCodes.HTTP_STATUS, status: 503, transient: true, attempts: 1 });
    expect(upstream.hits).toHaveLength(10);

    const keyed = [];
    for (let i = 0; i < 10; i++) {
      keyed.push(await client.json({ method: 'POST', path: '/charges', idempotencyKey: `key-${i}`, json: { orderId: `k${i}`, amount: 5 } }));
    }
    expect(keyed).toHaveLength(10);
    expect(client.breakerState).toBe('closed');
  });

  it('tells each retry to the call it belongs to when concurrent calls share the policies; leaves no listener on a reused caller signal', async () => {
    upstream.mode = 'flaky';
    const client = createHttpClient({ name: 'shared', baseUrl: upstream.url, retry: { retries: 3, initialDelayMs: 1, maxDelayMs: 5 }, breaker: false });
    const retriesOf = new Map<string, number[]>();
    const misattributed: unknown[] = [];
    client.onRetry((event) => {
      // The event's error is the failed attempt of the same call (recorded here, asserted below:
      // a listener's throw would only fail its own call, which allSettled swallows).
      if (!(isHttpError(event.error) && event.error.path === event.path)) misattributed.push(event);
      retriesOf.set(event.path, [...(retriesOf.get(event.path) ?? []), event.attempt]);
    });
    const signal = new AbortController().signal;
    // Every call settles (a call may see a 503 on each of its attempts when others take the 200s).
    const outcomes = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => client.request({ path: `/items/${i}`, signal })));
    expect(misattributed).toEqual([]);
    expect(outcomes.every((outcome) => outcome.status === 'fulfilled' || isHttpError(outcome.reason))).toBe(true);
    let retried = 0;
    outcomes.forEach((outcome, i) => {
      const attempts = outcome.status === 'fulfilled' ? outcome.value.attempts : (outcome.reason as HttpError).attempts;
      const expected = Array.from({ length: attempts - 1 }, (_, n) => n + 1);
      expect(retriesOf.get(`/items/${i}`) ?? []).toEqual(expected);
      retried += expected.length;
    });
    expect(retried).toBeGreaterThan(0); // every second request answered 503
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('does not retry a 4xx nor count it against the breaker', async () => {
    const client = createHttpClient({ name: 'strict', baseUrl: upstream.url, breaker: { consecutiveFailures: 2 } });
    const rejected = await failure(client.request({ method: 'POST', path: '/charges', idempotencyKey: 'x', json: { orderId: 'x', amount: 0 } }));
    expect(rejected).toMatchObject({ code: HttpErrorCodes.HTTP_STATUS, status: 422, transient: false, attempts: 1, breakerOpen: false });
    expect(rejected.response?.json()).toMatchObject({ detail: 'amount must be positive' });
    for (let i = 0; i < 5; i++) expect((await failure(client.request({ path: '/missing' }))).status).toBe(404);
    expect(client.breakerState).toBe('closed');
    expect(upstream.hits).toHaveLength(6);
  });

  it('propagates the correlation id and a child traceparent, and keeps credentials out of errors', async () => {
    const client = createHttpClient({ name: 'echo', baseUrl: upstream.url, headers: { Authorization: 'Bearer s3cr3t-token' } });
    const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const echoed = await withCorrelation({ correlationId: 'op-42', traceparent: parent }, () =>
      client.json<{ headers: Record<string, string> }>({ path: '/echo' }),
    );
    expect(echoed.headers['x-correlation-id']).toBe('op-42');
    expect(echoed.headers.authorization).toBe('Bearer s3cr3t-token');
    const [, trace, span, flags] = (echoed.headers.traceparent as string).split('-');
    expect(trace).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(span).not.toBe('b7ad6b7169203331');
    expect(flags).toBe('01');

    // A path cannot leave the target, even one that looks like another host.
    expect((await failure(client.request({ path: '//evil.example/echo' }))).status).toBe(404);
    expect(upstream.hits.at(-1)?.path).toBe('//evil.example/echo');
    // A path the URL parser would change is sent as it changes it: dot segments resolved, a space percent-encoded.
    expect((await client.json<{ id: string }>({ path: '/things/../items/7' })).id).toBe('7');
    expect(upstream.hits.at(-1)?.path).toBe('/items/7');
    expect((await client.json<{ id: string }>({ path: '/items/a b' })).id).toBe('a%20b');
    expect((await client.json<{ id: string }>({ path: '/items/%2e%2e/items/8' })).id).toBe('8');
    expect((await client.json<{ id: string }>({ path: '/items/9', query: { q: 'x y' } })).id).toBe('9');

    const explicit = await client.json<{ headers: Record<string, string> }>({ path: '/echo', correlationId: 'mine' });
    expect(explicit.headers['x-correlation-id']).toBe('mine');
    expect(explicit.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    // A traceparent header the caller sets is sent as it is, current correlation or not.
    const own = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00';
    const kept = await withCorrelation({ correlationId: 'op-43', traceparent: parent }, () =>
      client.json<{ headers: Record<string, string> }>({ path: '/echo', headers: { TraceParent: own } }),
    );
    expect(kept.headers.traceparent).toBe(own);
    // So is an x-correlation-id header; the correlationId option wins over both.
    const header = await withCorrelation({ correlationId: 'op-44', traceparent: parent }, () =>
      client.json<{ headers: Record<string, string> }>({ path: '/echo', headers: { 'X-Correlation-Id': 'from-header' } }),
    );
    expect(header.headers['x-correlation-id']).toBe('from-header');
    const option = await client.json<{ headers: Record<string, string> }>({
      path: '/echo',
      headers: { 'x-correlation-id': 'from-header' },
      correlationId: 'from-option',
    });
    expect(option.headers['x-correlation-id']).toBe('from-option');

    upstream.mode = 'failing';
    const error = await failure(client.request({ path: '/items/1?token=abc' }));
    const text = `${error.message} ${JSON.stringify(error.details)}`;
    expect(text).not.toContain('s3cr3t');
    expect(text).not.toContain('token=abc');
    expect(error.path).toBe('/items/1');
  });

  it('rejects calls beyond the bulkhead at once', async () => {
    upstream.mode = 'slow';
    upstream.slowMs = 200;
    const client = createHttpClient({ name: 'narrow', baseUrl: upstream.url, bulkhead: { limit: 1, queue: 0 }, retry: false });
    const [first, second] = await Promise.allSettled([client.request({ path: '/items/1' }), client.request({ path: '/items/2' })]);
    expect(first.status).toBe('fulfilled');
    expect(second.status === 'rejected' && second.reason).toMatchObject({ code: HttpErrorCodes.HTTP_BULKHEAD_FULL, transient: true, attempts: 0 });
  });

  it('turns a caller abort into HTTP_ABORTED, neither retried nor counted', async () => {
    upstream.mode = 'slow';
    upstream.slowMs = 300;
    const client = createHttpClient({ name: 'abortable', baseUrl: upstream.url, breaker: { consecutiveFailures: 1 } });
    const error = await failure(client.request({ path: '/items/1', signal: AbortSignal.timeout(50) }));
    expect(error).toMatchObject({ code: HttpErrorCodes.HTTP_ABORTED, transient: false, attempts: 1 });
    expect(client.breakerState).toBe('closed');
  });

  it('sends nothing more once the caller aborts during a retry delay', async () => {
    upstream.mode = 'failing';
    const client = createHttpClient({ name: 'abort-between', baseUrl: upstream.url, retry: { retries: 2, initialDelayMs: 20, maxDelayMs: 30 } });
    const controller = new AbortController();
    client.onRetry(() => controller.abort());
    const error = await failure(client.request({ path: '/items/1', signal: controller.signal }));
    expect(error).toMatchObject({ code: HttpErrorCodes.HTTP_ABORTED, transient: false });
    expect(upstream.hits).toHaveLength(1);
  });

  it('cuts an attempt whose answer stalls in the middle of its body at timeoutMs (HTTP_TIMEOUT, transient)', async () => {
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      response.write('{"id":"1","padding":"'); // and never the rest
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const client = createHttpClient({ name: 'stalling', baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 100, retry: false });
      expect(await failure(client.request({ path: '/items/1' }))).toMatchObject({ code: HttpErrorCodes.HTTP_TIMEOUT, transient: true, attempts: 1 });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('refuses a too-large body, announced or streamed, without an uncaught stream error; a HEAD answer announcing a large body has none to refuse', async () => {
    const server = createServer((request, response) => {
      // '/big' arrives whole at once (the case that threw an uncaught abort error); '/streamed' has no length.
      const streamed = request.url === '/streamed';
      response.writeHead(200, { 'content-type': 'application/octet-stream', ...(!streamed && { 'content-length': '100' }) });
      response.end(request.method === 'HEAD' ? undefined : Buffer.alloc(streamed ? 100_000 : 100));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const client = createHttpClient({ name: 'files', baseUrl: `http://127.0.0.1:${port}`, maxResponseBytes: 10 });
      const head = await client.request({ method: 'HEAD', path: '/big' });
      expect(head).toMatchObject({ status: 200, attempts: 1 });
      expect(head.headers['content-length']).toBe('100');
      for (const path of ['/big', '/streamed']) {
        expect(await failure(client.request({ path }))).toMatchObject({ code: HttpErrorCodes.HTTP_RESPONSE_TOO_LARGE, transient: false });
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('fails fast on bad options with a message saying what to fix, password redacted', () => {
    const attempt = (options: Parameters<typeof createHttpClient>[0]) => {
      try {
        createHttpClient(options);
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const badUrl = attempt({ name: 'x', baseUrl: 'ftp://user:hunter2@host' });
    expect(isMailroomError(badUrl, HttpErrorCodes.HTTP_CONFIG)).toBe(true);
    expect(String((badUrl as Error).message)).toContain('http: or https:');
    const notUrl = attempt({ name: 'x', baseUrl: 'user:hunter2@host no url' });
    expect((notUrl as Error).message).not.toContain('hunter2');
    expect((attempt({ name: 'x', baseUrl: 'http://h', timeoutMs: 0 }) as Error).message).toContain('timeoutMs must be a whole number >= 1');
    expect((attempt({ name: 'bad name', baseUrl: 'http://h' }) as Error).message).toContain('client name');
    expect((attempt({ name: 'x', baseUrl: 'http://h', breaker: { failureRate: 2 } }) as Error).message).toContain('failureRate');
  });
});
