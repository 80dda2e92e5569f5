import { getEventListeners } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure } from './support/failure.js';

// This file imports undici (directly or through the client) only below, after one `fetch`: Node 20's
// bundled undici (version 6) then makes its own Agent the global dispatcher, the one the client uses
// when `fetch` ran first in a process. That Agent knows only the older handler interface.
let hits: string[] = [];
let stalled: () => void = () => undefined;
let hung: () => void = () => undefined;
const server = createServer((request: IncomingMessage, response: ServerResponse) => {
  const path = request.url ?? '';
  hits.push(path);
  if (path === '/ok') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end('{"id":"1"}');
  } else if (path === '/stall') {
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
    response.write('{"id":"1","padding":"'); // and never the rest
    stalled();
  } else if (path === '/big' || path === '/streamed') {
    const streamed = path === '/streamed';
    response.writeHead(200, { 'content-type': 'application/octet-stream', ...(!streamed && { 'content-length': '100' }) });
    response.end(request.method === 'HEAD' ? undefined : Buffer.alloc(streamed ? 100_000 : 100));
  } else if (path === '/hang') {
    hung(); // and never an answer
  } else {
    response.writeHead(404).end();
  }
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
await (await fetch(`${origin}/ok`)).text();
const bundled = (globalThis as Record<symbol, unknown>)[Symbol.for('undici.globalDispatcher.1')];

const { Agent, MockAgent, Pool } = await import('undici');
const { createHttpClient, HttpErrorCodes } = await import('../src/index.js');
const { BufferedRequestFailure, requestBuffered } = await import('../src/buffered-request.js');
type Dispatcher = import('undici').Dispatcher;

const whenStalled = () => new Promise<void>((resolve) => (stalled = resolve));
const whenHung = () => new Promise<void>((resolve) => (hung = resolve));
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const activeTimers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

const agent = new Agent();
afterAll(async () => {
  await agent.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

it("is run with Node's bundled undici as the global dispatcher, not this package's", () => {
  expect(bundled).toBeDefined();
  expect(bundled).not.toBeInstanceOf(Agent);
});

const dispatchers: [string, () => Dispatcher][] = [
  ['an undici 7 Agent (controller API)', () => agent],
  ["Node's bundled undici 6 Agent (older handler API)", () => bundled as Dispatcher],
];

describe.each(dispatchers)('the client on %s', (_name, dispatcherOf) => {
  let dispatcher: Dispatcher;
  beforeAll(() => {
    dispatcher = dispatcherOf();
    hits = [];
  });

  it('reads a whole answer and leaves no timer and no abort listener behind', async () => {
    const client = createHttpClient({ name: 'files', baseUrl: origin, dispatcher, timeoutMs: 60_000 });
    const signal = new AbortController().signal;
    expect((await client.json({ path: '/ok', signal })) as unknown).toEqual({ id: '1' });
    const before = activeTimers();
    for (let i = 0; i < 20; i++) expect((await client.request({ path: '/ok', signal })).status).toBe(200);
    // Each attempt's 60 s timer is cleared when it settles (a dispatcher may hold one timer of its own).
    expect(activeTimers() - before).toBeLessThan(5);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('cuts a body that stalls midway at timeoutMs (HTTP_TIMEOUT, transient, retried)', async () => {
    const client = createHttpClient({ name: 'stalling', baseUrl: origin, dispatcher, timeoutMs: 100, retry: { retries: 1, initialDelayMs: 1, maxDelayMs: 2 } });
    hits = [];
    expect(await failure(client.request({ path: '/stall' }))).toMatchObject({ code: HttpErrorCodes.HTTP_TIMEOUT, transient: true, attempts: 2 });
    expect(hits).toEqual(['/stall', '/stall']);
  });

  it('turns a caller abort in the middle of the body or before the headers into HTTP_ABORTED, not retried, listener removed', async () => {
    const client = createHttpClient({ name: 'abortable', baseUrl: origin, dispatcher, breaker: { consecutiveFailures: 1 } });
    for (const path of ['/stall', '/hang']) {
      hits = [];
      const controller = new AbortController();
      const reason = new Error('caller gave up');
      const arrived = path === '/stall' ? whenStalled() : whenHung();
      const call = failure(client.request({ path, signal: controller.signal }));
      await arrived;
      controller.abort(reason);
      expect(await call).toMatchObject({ code: HttpErrorCodes.HTTP_ABORTED, transient: false, attempts: 1, cause: reason });
      expect(hits).toEqual([path]);
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    }
    expect(client.breakerState).toBe('closed');
  });

  it('refuses a too-large body, announced or streamed; a HEAD answer announcing a large body is read', async () => {
    const client = createHttpClient({ name: 'files', baseUrl: origin, dispatcher, maxResponseBytes: 10 });
    const head = await client.request({ method: 'HEAD', path: '/big' });
    expect(head).toMatchObject({ status: 200, attempts: 1 });
    expect(head.headers['content-length']).toBe('100');
    for (const path of ['/big', '/streamed']) {
      expect(await failure(client.request({ path }))).toMatchObject({
        code: HttpErrorCodes.HTTP_RESPONSE_TOO_LARGE,
        status: 200,
        transient: false,
        attempts: 1,
      });
    }
    // The connection the refused bodies were on is usable afterwards (or replaced).
    expect((await client.request({ path: '/ok' })).status).toBe(200);
  });

  it('requestBuffered sends nothing for a signal already aborted', async () => {
    hits = [];
    const controller = new AbortController();
    controller.abort(new Error('before'));
    const options = {
      origin,
      path: '/ok',
      method: 'GET' as const,
      headers: {},
      body: undefined,
      timeoutMs: 1000,
      maxResponseBytes: 100,
      signal: controller.signal,
    };
    const error = await requestBuffered(dispatcher, options).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BufferedRequestFailure);
    expect(error).toMatchObject({ kind: 'aborted', cause: controller.signal.reason });
    await pause(20);
    expect(hits).toEqual([]);
  });
});

describe('the client on a Pool with one connection taken', () => {
  it('times out an attempt still waiting for a connection, and never sends it once the connection frees', async () => {
    const pool = new Pool(origin, { connections: 1 });
    try {
      const client = createHttpClient({ name: 'pooled', baseUrl: origin, dispatcher: pool, retry: false });
      hits = [];
      const holder = new AbortController();
      const held = whenHung();
      const holding = failure(client.request({ path: '/hang', signal: holder.signal }));
      await held; // the one connection is taken
      const waiting = createHttpClient({ name: 'pooled', baseUrl: origin, dispatcher: pool, retry: false, timeoutMs: 100 });
      expect(await failure(waiting.request({ path: '/ok' }))).toMatchObject({ code: HttpErrorCodes.HTTP_TIMEOUT, attempts: 1 });
      holder.abort();
      expect((await holding).code).toBe(HttpErrorCodes.HTTP_ABORTED);
      await pause(50);
      expect(hits).toEqual(['/hang']); // the timed-out request was aborted when it got the connection
      expect((await client.request({ path: '/ok' })).status).toBe(200);
    } finally {
      await pool.destroy();
    }
  });
});

describe('the client on a MockAgent', () => {
  it('gets answers, status errors with their response, network errors and timeouts from the mock', async () => {
    const mock = new MockAgent();
    mock.disableNetConnect();
    const upstream = mock.get('http://payments.test');
    upstream.intercept({ path: '/stock/42', method: 'GET' }).reply(503, { error: 'busy' });
    upstream.intercept({ path: '/stock/42', method: 'GET' }).reply(200, { available: 3 }, { headers: { 'content-type': 'application/json' } });
    upstream.intercept({ path: '/charges', method: 'POST', body: '{"amount":5}' }).reply(422, { detail: 'no' });
    upstream.intercept({ path: '/down', method: 'GET' }).replyWithError(new Error('connection refused'));
    upstream.intercept({ path: '/slow', method: 'GET' }).reply(200, {}).delay(500);
    try {
      const client = createHttpClient({
        name: 'payments',
        baseUrl: 'http://payments.test',
        dispatcher: mock,
        timeoutMs: 100,
        retry: { retries: 1, initialDelayMs: 1, maxDelayMs: 2 },
        breaker: false,
      });
      const stock = await client.request({ path: '/stock/42' });
      expect(stock).toMatchObject({ status: 200, attempts: 2 });
      expect(stock.json()).toEqual({ available: 3 });
      const rejected = await failure(client.request({ method: 'POST', path: '/charges', json: { amount: 5 } }));
      expect(rejected).toMatchObject({ code: HttpErrorCodes.HTTP_STATUS, status: 422, attempts: 1 });
      expect(rejected.response?.json()).toEqual({ detail: 'no' });
      const once = createHttpClient({ name: 'payments', baseUrl: 'http://payments.test', dispatcher: mock, timeoutMs: 100, retry: false, breaker: false });
      const down = await failure(once.request({ path: '/down' }));
      expect(down).toMatchObject({ code: HttpErrorCodes.HTTP_NETWORK, transient: true, attempts: 1 });
      expect((down.cause as Error).message).toBe('connection refused');
      expect(await failure(once.request({ path: '/slow' }))).toMatchObject({ code: HttpErrorCodes.HTTP_TIMEOUT, transient: true, attempts: 1 });
    } finally {
      await mock.close();
    }
  });
});
