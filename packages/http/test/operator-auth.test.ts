import { PassThrough } from 'node:stream';
import { isMailroomError } from '@mailroom/core';
import Fastify, { type FastifyInstance, type InjectOptions, type LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpErrorCodes, mailroomFastify } from '../src/index.js';
import {
  checkRoutesClosed,
  markRoutesOpen,
  OPEN_ROUTE,
  type OperatorAuthOptions,
  operatorAuth,
  resolveOperatorToken,
  samplePath,
} from '../src/operator-auth/index.js';

const TOKEN = 'a-long-enough-operator-token-0123456789';
const HOST = 'ops.test:8080';
const SELF = `http://${HOST}`;

interface Rig {
  app: FastifyInstance;
  audit: Record<string, unknown>[];
  /** Injects with `Host: ops.test:8080`, so the server's own origin is http://ops.test:8080. */
  call(options: InjectOptions): Promise<LightMyRequestResponse>;
}

const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

async function rig(options: Partial<OperatorAuthOptions> = {}, fastifyOptions: { trustProxy?: boolean } = {}): Promise<Rig> {
  const audit: Record<string, unknown>[] = [];
  const stream = new PassThrough();
  stream.setEncoding('utf8').on('data', (line: string) => audit.push(JSON.parse(line)));
  const app = Fastify(fastifyOptions);
  apps.push(app);
  await app.register(mailroomFastify);
  await app.register(operatorAuth, { token: TOKEN, logger: pino({ level: 'info' }, stream), ...options });
  app.get('/admin/things', async () => ({ things: 1 }));
  app.post('/admin/things/:id/stop', async (request) => ({ stopped: (request.params as { id: string }).id }));
  app.put('/admin/switch', async (request) => request.body);
  app.delete('/admin/things/*', async () => ({ deleted: true }));
  app.get('/public/catalog', { config: OPEN_ROUTE }, async () => ({ products: [] }));
  app.post('/public/orders', { config: OPEN_ROUTE }, async (_request, reply) => reply.code(202).send({ accepted: true }));
  await app.register(async (scope) => {
    markRoutesOpen(scope);
    scope.get('/ui/*', async () => 'page');
  });
  await app.ready();
  const call = (options: InjectOptions): Promise<LightMyRequestResponse> => app.inject({ ...options, headers: { host: HOST, ...options.headers } });
  return { app, audit, call };
}

async function loggedIn(r: Rig): Promise<string> {
  const response = await r.call({ method: 'GET', url: `/login?token=${encodeURIComponent(TOKEN)}` });
  expect(response.statusCode).toBe(303);
  const cookie = response.cookies.find((c) => c.name === 'mailroom_session');
  return `mailroom_session=${cookie?.value}`;
}

const json = { 'content-type': 'application/json' };

describe('operatorAuth: closed by default', () => {
  it('answers 401 problem+json without credentials on every route not marked open, unknown paths included', async () => {
    const r = await rig();
    for (const [method, url] of [
      ['GET', '/admin/things'],
      ['POST', '/admin/things/a/stop'],
      ['PUT', '/admin/switch'],
      ['DELETE', '/admin/things/1'],
      ['GET', '/no/such/route'],
    ] as const) {
      const response = await r.call({ method, url });
      expect(response.statusCode, `${method} ${url}`).toBe(401);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.headers['www-authenticate']).toBe('Bearer realm="mailroom"');
      expect(response.json().code).toBe(HttpErrorCodes.AUTH_REQUIRED);
    }
    expect((await r.call({ method: 'GET', url: '/public/catalog' })).statusCode).toBe(200);
    expect((await r.call({ method: 'GET', url: '/ui/index.html' })).body).toBe('page');
  });

  it('walks the route table: every closed route answers 401, the open ones are listed', async () => {
    const r = await rig();
    const report = await checkRoutesClosed(r.app);
    expect(report.unprotected).toEqual([]);
    expect(report.closed.map((route) => `${route.method} ${route.url}`)).toEqual(
      expect.arrayContaining(['GET /admin/things', 'HEAD /admin/things', 'POST /admin/things/:id/stop', 'PUT /admin/switch', 'DELETE /admin/things/*']),
    );
    expect(report.open.map((route) => `${route.method} ${route.url}`).sort()).toEqual(
      [
        'GET /login',
        'HEAD /login',
        'POST /login',
        'POST /logout',
        'GET /session',
        'HEAD /session',
        'GET /public/catalog',
        'HEAD /public/catalog',
        'POST /public/orders',
        'GET /ui/*',
        'HEAD /ui/*',
      ].sort(),
    );
  });

  it('the route walk reports a route that answers without credentials', async () => {
    const app = Fastify();
    apps.push(app);
    await app.register(mailroomFastify);
    // Registered before the plugin: still closed (the hooks cover every route), but not in the walk.
    app.get('/early', async () => ({}));
    // A hook registered before the plugin answers first: exactly the kind of hole the walk must show.
    app.addHook('onRequest', async (request, reply) => {
      if (request.url === '/leaky') return reply.send({ leaked: true });
    });
    await app.register(operatorAuth, { token: TOKEN, logger: pino({ level: 'silent' }) });
    app.get('/leaky', async () => ({}));
    app.get('/fine', async () => ({}));
    const report = await checkRoutesClosed(app);
    expect(report.unprotected.map((route) => `${route.method} ${route.url} -> ${route.status}`)).toEqual(['GET /leaky -> 200', 'HEAD /leaky -> 200']);
    expect(report.closed.map((route) => route.url)).not.toContain('/early');
    expect((await app.inject({ method: 'GET', url: '/early' })).statusCode).toBe(401);
  });

  it('samplePath fills parameters and wildcards', () => {
    expect(samplePath('/a/:id/b/:n(^\\d+)/*')).toBe('/a/x/b/x/x');
  });
});

describe('operatorAuth: credentials', () => {
  it('accepts Authorization: Bearer <token> and refuses a wrong one', async () => {
    const r = await rig();
    expect((await r.call({ method: 'GET', url: '/admin/things', headers: { authorization: `Bearer ${TOKEN}` } })).json()).toEqual({ things: 1 });
    const wrong = await r.call({ method: 'GET', url: '/admin/things', headers: { authorization: `Bearer ${TOKEN}x` } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().detail).toContain('Authorization header does not carry the operator token');
    expect((await r.call({ method: 'GET', url: '/admin/things', headers: { authorization: `Basic ${TOKEN}` } })).statusCode).toBe(401);
  });

  it('the login link sets an HttpOnly SameSite=Strict session cookie and redirects, without a token in the target', async () => {
    const r = await rig();
    const response = await r.call({ method: 'GET', url: `/login?token=${encodeURIComponent(TOKEN)}` });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/');
    expect(response.headers['referrer-policy']).toBe('no-referrer');
    expect(response.headers['cache-control']).toBe('no-store');
    const setCookie = String(response.headers['set-cookie']);
    expect(setCookie).toMatch(/^mailroom_session=[A-Za-z0-9_-]{43}; Max-Age=28800; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(setCookie).not.toContain(TOKEN);
    const cookie = await loggedIn(r);
    expect((await r.call({ method: 'GET', url: '/admin/things', headers: { cookie } })).json()).toEqual({ things: 1 });
    expect((await r.call({ method: 'GET', url: '/session', headers: { cookie } })).json()).toMatchObject({ authenticated: true, via: 'session' });
  });

  it('a wrong login token sets no cookie', async () => {
    const r = await rig();
    for (const url of ['/login?token=nope', '/login']) {
      const response = await r.call({ method: 'GET', url });
      expect(response.statusCode).toBe(401);
      expect(response.headers['set-cookie']).toBeUndefined();
    }
    const posted = await r.call({ method: 'POST', url: '/login', headers: { ...json, origin: SELF }, payload: { token: 'nope' } });
    expect(posted.statusCode).toBe(401);
    expect(posted.headers['set-cookie']).toBeUndefined();
  });

  it('marks the cookie Secure when served over https (behind a trusted proxy here)', async () => {
    const r = await rig({}, { trustProxy: true });
    const response = await r.call({ method: 'GET', url: `/login?token=${TOKEN}`, headers: { 'x-forwarded-proto': 'https' } });
    expect(String(response.headers['set-cookie'])).toMatch(/; Secure/);
  });

  it('POST /login {token} logs in; POST /logout ends the session and clears the cookie', async () => {
    const r = await rig();
    const login = await r.call({ method: 'POST', url: '/login', headers: { ...json, origin: SELF }, payload: { token: TOKEN } });
    expect(login.statusCode).toBe(200);
    expect(login.json()).toMatchObject({ authenticated: true });
    const cookie = `mailroom_session=${login.cookies.find((c) => c.name === 'mailroom_session')?.value}`;
    expect((await r.call({ method: 'GET', url: '/admin/things', headers: { cookie } })).statusCode).toBe(200);
    const logout = await r.call({ method: 'POST', url: '/logout', headers: { ...json, origin: SELF, cookie }, payload: {} });
    expect(logout.statusCode).toBe(204);
    expect(String(logout.headers['set-cookie'])).toMatch(/^mailroom_session=; Max-Age=0;.*Expires=Thu, 01 Jan 1970/);
    expect((await r.call({ method: 'GET', url: '/admin/things', headers: { cookie } })).statusCode).toBe(401);
    expect((await r.call({ method: 'GET', url: '/session', headers: { cookie } })).json()).toEqual({ authenticated: false });
  });

  it('a session expires after sessionTtlMs', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const r = await rig({ sessionTtlMs: 60_000, now: () => now });
    const cookie = await loggedIn(r);
    now += 59_999;
    expect((await r.call({ method: 'GET', url: '/admin/things', headers: { cookie } })).statusCode).toBe(200);
    now += 1;
    expect((await r.call({ method: 'GET', url: '/admin/things', headers: { cookie } })).statusCode).toBe(401);
  });

  it('generates a 256-bit token when none is given, and makes its login link', async () => {
    const app = Fastify();
    apps.push(app);
    await app.register(mailroomFastify);
    await app.register(operatorAuth, { logger: pino({ level: 'silent' }) });
    expect(app.operatorAuth.generated).toBe(true);
    expect(app.operatorAuth.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(app.operatorAuth.loginUrl('http://127.0.0.1:3000/')).toBe(`http://127.0.0.1:3000/login?token=${app.operatorAuth.token}`);
  });

  it('refuses bad options and a weak configured token, naming what to fix', async () => {
    expect(() => resolveOperatorToken('short', 'SHOP_ADMIN_TOKEN')).toThrow(/SHOP_ADMIN_TOKEN is not a usable operator token: use 16 to 512/);
    expect(() => resolveOperatorToken('has a space in it, sadly', 'X')).toThrow(/printable characters without spaces/);
    expect(resolveOperatorToken('', 'X').generated).toBe(true);
    expect(resolveOperatorToken(TOKEN, 'X')).toEqual({ token: TOKEN, generated: false });
    const attempts: [Partial<OperatorAuthOptions>, RegExp][] = [
      [{ allowedOrigins: ['not an origin'] }, /allowedOrigins/],
      [{ sessionTtlMs: 5 }, /sessionTtlMs/],
      [{ cookieName: 'a b' }, /cookieName/],
      [{ loginPath: 'login' }, /loginPath/],
    ];
    for (const [options, message] of attempts) {
      const app = Fastify();
      await app.register(mailroomFastify);
      const error = await (async () => app.register(operatorAuth, { token: TOKEN, logger: pino({ level: 'silent' }), ...options }))().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isMailroomError(error, HttpErrorCodes.HTTP_CONFIG), String(error)).toBe(true);
      expect(String(error)).toMatch(message);
      await app.close().catch(() => undefined);
    }
    const bare = Fastify();
    await expect((async () => bare.register(operatorAuth, { token: TOKEN }))()).rejects.toThrow(/needs the mailroomFastify plugin/);
  });
});

describe('operatorAuth: state-changing requests (CSRF)', () => {
  it('refuses another origin with a valid session: Origin, null Origin, Referer, or neither', async () => {
    const r = await rig();
    const cookie = await loggedIn(r);
    const attempts: Record<string, string>[] = [
      { origin: 'http://evil.test' },
      { origin: 'http://ops.test:8081' }, // same site, another port: SameSite does not separate these
      { origin: 'null' },
      { referer: 'http://evil.test/page' },
      {},
    ];
    for (const headers of attempts) {
      const response = await r.call({ method: 'POST', url: '/admin/things/a/stop', headers: { ...json, cookie, ...headers }, payload: {} });
      expect(response.statusCode, JSON.stringify(headers)).toBe(403);
      expect(response.json().code).toBe(HttpErrorCodes.AUTH_CROSS_ORIGIN);
    }
    for (const headers of [{ origin: SELF }, { referer: `${SELF}/admin` }]) {
      const response = await r.call({ method: 'POST', url: '/admin/things/a/stop', headers: { ...json, cookie, ...headers }, payload: {} });
      expect(response.json(), JSON.stringify(headers)).toEqual({ stopped: 'a' });
    }
  });

  it('refuses what forms and no-cors fetches can send: text/plain, form-urlencoded, multipart, no content type', async () => {
    const r = await rig();
    const cookie = await loggedIn(r);
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', undefined]) {
      const response = await r.call({
        method: 'PUT',
        url: '/admin/switch',
        headers: { cookie, origin: SELF, ...(type !== undefined && { 'content-type': type }) },
        payload: '{"poison":false}',
      });
      expect(response.statusCode, String(type)).toBe(415);
      expect(response.json().code).toBe(HttpErrorCodes.AUTH_JSON_REQUIRED);
    }
    const ok = await r.call({
      method: 'PUT',
      url: '/admin/switch',
      headers: { cookie, origin: SELF, 'content-type': 'application/json; charset=utf-8' },
      payload: '{"poison":false}',
    });
    expect(ok.json()).toEqual({ poison: false });
  });

  it('needs no Origin from a bearer call (a browser cannot forge one), but still JSON', async () => {
    const r = await rig();
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect((await r.call({ method: 'POST', url: '/admin/things/b/stop', headers: { ...auth, ...json }, payload: {} })).json()).toEqual({ stopped: 'b' });
    expect((await r.call({ method: 'POST', url: '/admin/things/b/stop', headers: { ...auth, 'content-type': 'text/plain' }, payload: '{}' })).statusCode).toBe(
      415,
    );
  });

  it('checks open routes too: a cross-origin order is refused, a same-origin or scripted JSON one goes through', async () => {
    const r = await rig();
    const cross = await r.call({ method: 'POST', url: '/public/orders', headers: { ...json, origin: 'http://evil.test' }, payload: {} });
    expect(cross.statusCode).toBe(403);
    const form = await r.call({ method: 'POST', url: '/public/orders', headers: { origin: SELF, 'content-type': 'text/plain' }, payload: '{}' });
    expect(form.statusCode).toBe(415);
    expect((await r.call({ method: 'POST', url: '/public/orders', headers: { ...json, origin: SELF }, payload: {} })).statusCode).toBe(202);
    expect((await r.call({ method: 'POST', url: '/public/orders', headers: json, payload: {} })).statusCode).toBe(202);
  });

  it('accepts the allowedOrigins', async () => {
    const r = await rig({ allowedOrigins: ['http://localhost:5173'] });
    const cookie = await loggedIn(r);
    const response = await r.call({ method: 'POST', url: '/admin/things/c/stop', headers: { ...json, cookie, origin: 'http://localhost:5173' }, payload: {} });
    expect(response.statusCode).toBe(200);
  });
});

describe('operatorAuth: audit log', () => {
  it('writes who, what, when and the outcome of every state-changing request and login, never the token or the session id', async () => {
    const r = await rig();
    const cookie = await loggedIn(r);
    await r.call({ method: 'POST', url: '/admin/things/a/stop', headers: { ...json, cookie, origin: SELF }, payload: {} });
    await r.call({ method: 'POST', url: '/admin/things/a/stop', headers: { ...json, origin: SELF }, payload: {} });
    await r.call({ method: 'POST', url: '/admin/things/a/stop', headers: { ...json, cookie, origin: 'http://evil.test' }, payload: {} });
    await r.call({ method: 'PUT', url: '/admin/switch', headers: { authorization: `Bearer ${TOKEN}`, ...json }, payload: { poison: true } });
    await r.call({ method: 'GET', url: '/admin/things', headers: { cookie } });
    const entries = r.audit.map(({ who, action, status, outcome, code }) => ({ who, action, status, outcome, ...(code !== undefined && { code }) }));
    const session = /^session:[0-9a-f]{12}$/;
    expect(entries).toEqual([
      { who: expect.stringMatching(session), action: 'GET /login', status: 303, outcome: 'done' },
      { who: expect.stringMatching(session), action: 'POST /admin/things/:id/stop', status: 200, outcome: 'done' },
      { who: 'anonymous', action: 'POST /admin/things/:id/stop', status: 401, outcome: 'denied', code: HttpErrorCodes.AUTH_REQUIRED },
      { who: expect.stringMatching(session), action: 'POST /admin/things/:id/stop', status: 403, outcome: 'denied', code: HttpErrorCodes.AUTH_CROSS_ORIGIN },
      { who: expect.stringMatching(/^token:[0-9a-f]{8}$/), action: 'PUT /admin/switch', status: 200, outcome: 'done' },
    ]);
    expect(r.audit[1]?.who).toBe(r.audit[0]?.who);
    for (const entry of r.audit) {
      expect(entry).toMatchObject({ audit: true, level: 30, path: expect.any(String), ip: expect.any(String), at: expect.any(String) });
      expect(Date.parse(entry.at as string)).not.toBeNaN();
    }
    const text = JSON.stringify(r.audit);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(cookie.split('=')[1]);
  });
});
