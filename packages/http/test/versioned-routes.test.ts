import { isMailroomError, MailroomError } from '@mailroom/core';
import Fastify, { type FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient, HttpErrorCodes, mailroomFastify, PROBLEM_CONTENT_TYPE, versionedRoute } from '../src/index.js';
import { type FaultUpstream, startUpstream } from './support/fault-upstream.js';

const SINCE = new Date('2025-01-01T00:00:00Z');
const SUNSET = new Date('2026-12-31T00:00:00Z');

let app: FastifyInstance;
let base: string;
let upstream: FaultUpstream;

beforeAll(async () => {
  upstream = await startUpstream();
  const echo = createHttpClient({ name: 'echo', baseUrl: upstream.url });
  app = Fastify();
  await app.register(mailroomFastify, { problemTypeBase: 'https://docs.example.com/errors#' });
  await app.register(
    async (api) => {
      versionedRoute(api, {
        method: 'GET',
        url: '/orders/:id',
        versions: {
          1: {
            deprecated: { since: SINCE, sunset: SUNSET, link: 'https://docs.example.com/orders-v2' },
            handler: async (request) => ({ id: (request.params as { id: string }).id, total: 1250 }),
          },
          2: { handler: async (request) => ({ id: (request.params as { id: string }).id, total: { amount: 1250, currency: 'EUR' } }) },
        },
      });
      versionedRoute(api, {
        method: 'POST',
        url: '/orders',
        versions: {
          1: {
            deprecated: { since: SINCE },
            schema: { body: { type: 'object', required: ['item'], properties: { item: { type: 'string' } } } },
            handler: async (request, reply) => reply.code(201).send({ version: 1, item: (request.body as { item: string }).item }),
          },
          2: {
            schema: {
              body: {
                type: 'object',
                required: ['sku', 'quantity'],
                properties: { sku: { type: 'string' }, quantity: { type: 'integer', minimum: 1 } },
                additionalProperties: false,
              },
            },
            handler: async (request, reply) => reply.code(201).send({ version: 2, ...(request.body as object) }),
          },
        },
      });
    },
    { prefix: '/api' },
  );
  app.get('/api/proxy', async () => echo.json<{ headers: Record<string, string> }>({ path: '/echo' }));
  app.get('/api/boom', async () => {
    throw new Error('database password is hunter2');
  });
  app.get('/api/upstream-down', async () => {
    throw new MailroomError(HttpErrorCodes.HTTP_CIRCUIT_OPEN, 'the circuit breaker of payments is open');
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await app.close();
  await upstream.close();
});

async function get(path: string, headers: Record<string, string> = {}) {
  const response = await request(`${base}${path}`, { headers });
  return { status: response.statusCode, headers: response.headers, body: (await response.body.json()) as Record<string, any> };
}

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await request(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.statusCode, headers: response.headers, body: (await response.body.json()) as Record<string, any> };
}

describe('versioned routes, side by side', () => {
  it('serves both versions in the /v<n>/ path style, announcing the old one as deprecated', async () => {
    const v1 = await get('/api/v1/orders/7');
    expect(v1.status).toBe(200);
    expect(v1.body).toEqual({ id: '7', total: 1250 });
    expect(v1.headers['api-version']).toBe('1');
    expect(v1.headers.deprecation).toBe(`@${SINCE.getTime() / 1000}`);
    expect(v1.headers.sunset).toBe('Thu, 31 Dec 2026 00:00:00 GMT');
    expect(v1.headers.link).toBe('<https://docs.example.com/orders-v2>; rel="deprecation"; type="text/html", </api/v2/orders/7>; rel="successor-version"');

    const v2 = await get('/api/v2/orders/7');
    expect(v2.body).toEqual({ id: '7', total: { amount: 1250, currency: 'EUR' } });
    expect(v2.headers['api-version']).toBe('2');
    expect(v2.headers.deprecation).toBeUndefined();
    expect(v2.headers.sunset).toBeUndefined();
  });

  it('serves both versions on the unversioned path by Accept-Version, the newest stable one by default', async () => {
    for (const asked of ['1', 'v1', '1.0', '1.x']) {
      const v1 = await get('/api/orders/8', { 'accept-version': asked });
      expect(v1.body).toEqual({ id: '8', total: 1250 });
      expect(v1.headers.deprecation).toBe(`@${SINCE.getTime() / 1000}`);
      expect(v1.headers.vary).toContain('accept-version');
    }
    const v2 = await get('/api/orders/8', { 'accept-version': '2' });
    expect(v2.body.total).toEqual({ amount: 1250, currency: 'EUR' });
    expect(v2.headers.deprecation).toBeUndefined();
    const unversioned = await get('/api/orders/8');
    expect(unversioned.body.total).toEqual({ amount: 1250, currency: 'EUR' });
    expect(unversioned.headers['api-version']).toBe('2');
  });

  it('answers 406 problem+json for a version that is not served', async () => {
    for (const asked of ['3', 'banana']) {
      const response = await get('/api/orders/8', { 'accept-version': asked });
      expect(response.status).toBe(406);
      expect(response.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE);
      expect(response.body).toMatchObject({
        status: 406,
        code: HttpErrorCodes.HTTP_UNSUPPORTED_VERSION,
        type: `https://docs.example.com/errors#${HttpErrorCodes.HTTP_UNSUPPORTED_VERSION}`,
      });
      expect(response.body.detail).toContain('1, 2');
    }
  });

  it('validates each version against its own schema and answers validation errors as problem+json', async () => {
    expect((await post('/api/v1/orders', { item: 'tea' })).body).toEqual({ version: 1, item: 'tea' });
    expect((await post('/api/orders', { item: 'tea' }, { 'accept-version': '1' })).body).toEqual({ version: 1, item: 'tea' });
    expect((await post('/api/v2/orders', { sku: 'TEA-1', quantity: 2 })).body).toEqual({ version: 2, sku: 'TEA-1', quantity: 2 });

    const invalid = await post('/api/v2/orders', { sku: 'TEA-1', quantity: 0 }, { 'x-correlation-id': 'req-123' });
    expect(invalid.status).toBe(400);
    expect(invalid.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE);
    expect(invalid.headers['x-correlation-id']).toBe('req-123');
    expect(invalid.body).toMatchObject({
      type: `https://docs.example.com/errors#${HttpErrorCodes.HTTP_VALIDATION}`,
      title: 'Bad Request',
      status: 400,
      code: HttpErrorCodes.HTTP_VALIDATION,
      instance: '/api/v2/orders',
      correlationId: 'req-123',
      errors: [{ in: 'body', path: '/quantity' }],
    });
    // v1's body is invalid for v2 (the default): each version keeps its own contract.
    const missing = await post('/api/orders', { item: 'tea' });
    expect(missing.status).toBe(400);
    expect(missing.body.errors.map((error: { path: string }) => error.path)).toContain('/sku');
  });
});

describe('the mailroomFastify plugin', () => {
  it('takes a valid correlation id in, makes a new one otherwise, and echoes it out', async () => {
    const given = await get('/api/v2/orders/1', { 'x-correlation-id': 'op-0198' });
    expect(given.headers['x-correlation-id']).toBe('op-0198');
    const invalid = await get('/api/v2/orders/1', { 'x-correlation-id': 'has spaces; and <html>' });
    expect(invalid.headers['x-correlation-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
    const none = await get('/api/v2/orders/1');
    expect(none.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('makes the request correlation current, so the HTTP client propagates it (and the trace) upstream', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const proxied = await get('/api/proxy', { 'x-correlation-id': 'through-1', traceparent });
    expect(proxied.body.headers['x-correlation-id']).toBe('through-1');
    expect(proxied.body.headers.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
  });

  it('answers unknown routes, internal errors and upstream failures as problem+json without leaking internals', async () => {
    const missing = await get('/nowhere?secret=1');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ status: 404, code: HttpErrorCodes.HTTP_NOT_FOUND, instance: '/nowhere', detail: 'No route serves GET /nowhere' });

    const boom = await get('/api/boom');
    expect(boom.status).toBe(500);
    expect(boom.body.code).toBe(HttpErrorCodes.HTTP_INTERNAL);
    expect(JSON.stringify(boom.body)).not.toContain('hunter2');
    expect(boom.body.correlationId).toBe(boom.headers['x-correlation-id']);

    const down = await get('/api/upstream-down');
    expect(down.status).toBe(503);
    expect(down.body.code).toBe(HttpErrorCodes.HTTP_CIRCUIT_OPEN);
  });

  it('fails fast when a versioned route is misconfigured', async () => {
    const bare = Fastify();
    const configError = (fn: () => void) => {
      try {
        fn();
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const noPlugin = configError(() => versionedRoute(bare, { method: 'GET', url: '/x', versions: { 1: { handler: async () => 1 } } }));
    expect(isMailroomError(noPlugin, HttpErrorCodes.HTTP_CONFIG)).toBe(true);
    expect((noPlugin as Error).message).toContain('register the mailroomFastify plugin');
    await bare.register(mailroomFastify);
    await bare.after();
    const badKey = configError(() => versionedRoute(bare, { method: 'GET', url: '/x', versions: { 0: { handler: async () => 1 } } }));
    expect((badKey as Error).message).toContain('whole numbers >= 1');
    const badDate = configError(() =>
      versionedRoute(bare, { method: 'GET', url: '/y', versions: { 1: { deprecated: { since: 'not a date' }, handler: async () => 1 } } }),
    );
    expect((badDate as Error).message).toContain('not a valid date');
    await bare.close();
  });
});
