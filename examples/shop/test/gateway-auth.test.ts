// The gateway's operator surface is closed by default: the real gateway app (SQLite broker and
// database, the supervisor's real control channel), its route table walked, cross-site requests
// refused, and the event-stream cap per client.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createEndpoint, type Transport } from '@mailroom/core';
import { HttpErrorCodes } from '@mailroom/http';
import { checkRoutesClosed } from '@mailroom/http/operator-auth';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createControlClient } from '../src/gateway/control-client.js';
import { buildGatewayApp } from '../src/gateway/gateway-app.js';
import { createInventoryClient } from '../src/gateway/inventory-client.js';
import { openOperationStore } from '../src/gateway/operation-store.js';
import { shopOperations } from '../src/operations.js';
import { createLineLogger } from '../src/runtime/line-logger.js';
import { openServiceDatabase, type ServiceDatabase } from '../src/runtime/service-database.js';
import { connectShopTransport } from '../src/runtime/shop-transport.js';
import { SERVICE_NAMES, type ServiceName } from '../src/service-names.js';
import { readShopConfig } from '../src/shop-config.js';
import { type ControlServer, startControlServer } from '../src/supervisor/control-server.js';
import { LogPrefixer } from '../src/supervisor/log-prefixer.js';
import { Supervisor } from '../src/supervisor/supervisor.js';

const TOKEN = 'gateway-auth-test-token-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'shop-gateway-auth-'));
let app: FastifyInstance;
let base: string;
let supervisor: Supervisor;
let control: ControlServer;
let transport: Transport;
let db: ServiceDatabase;
let closeStore: () => void;
let auditLines = '';
const ORDER_ID = '01a20c70-f07d-7588-8a98-27e62d1141bf';

beforeAll(async () => {
  const uiDir = join(dir, 'ui');
  mkdirSync(uiDir);
  writeFileSync(join(uiDir, 'index.html'), '<!doctype html><title>shop</title>');
  const config = readShopConfig({ SHOP_DATA_DIR: join(dir, 'data'), PORT: '0' });
  const log = createLineLogger('silent');
  transport = await connectShopTransport(config, log, 'gateway-auth-test');
  db = await openServiceDatabase(config, 'gateway', log);
  const endpoint = createEndpoint<unknown>({ name: 'gateway', transport, persistence: db.persistence, logger: log });
  const opened = openOperationStore(db);
  closeStore = opened.close;
  await opened.store.migrate();
  const operations = shopOperations(60_000);
  await opened.store.create(
    {
      id: ORDER_ID,
      name: operations.placeOrder.name,
      steps: [],
      startedAt: new Date(),
      deadline: undefined,
      started: { type: 'shop.OrderPlaced', messageId: ORDER_ID },
    },
    () => undefined as never,
  );
  const out = new PassThrough();
  out.resume();
  supervisor = new Supervisor({
    scriptOf: () => join(dir, 'never-started.mjs'),
    execArgv: [],
    workers: Object.fromEntries(SERVICE_NAMES.map((name) => [name, 1])) as Record<ServiceName, number>,
    envOf: () => ({}),
    logs: new LogPrefixer(14, false, out),
    restartDelayMs: 100,
    faults: { poison: true },
  });
  control = await startControlServer(supervisor);
  const logged = new PassThrough();
  logged.setEncoding('utf8').on('data', (line: string) => {
    if (line.includes('"audit":true')) auditLines += line;
  });
  app = await buildGatewayApp({
    transport,
    endpoint,
    store: opened.store,
    operations,
    inventory: createInventoryClient({ baseUrl: 'http://127.0.0.1:9', halfOpenAfterMs: 1000, logger: log }),
    control: createControlClient(control.url, control.token),
    system: { transport: 'sqlite', transportDescription: 'test', databases: 'sqlite' },
    uiDirectory: uiDir,
    logger: pino({ level: 'info' }, logged),
    adminToken: TOKEN,
    maxStreamsPerClient: 2,
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
}, 60_000);

afterAll(async () => {
  await app?.close();
  await control?.close();
  closeStore?.();
  await db?.close();
  await transport?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function login(): Promise<string> {
  const response = await request(`${base}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: base },
    body: JSON.stringify({ token: TOKEN }),
  });
  expect(response.statusCode).toBe(200);
  await response.body.dump();
  return String(response.headers['set-cookie']).split(';')[0] as string;
}

const desired = (service: string) => supervisor.status().services.find((s) => s.name === service)?.desired;

describe('the shop gateway: operator routes closed by default', () => {
  it('walks the route table: every route not opened on purpose answers 401 without credentials', async () => {
    const report = await checkRoutesClosed(app);
    expect(report.unprotected).toEqual([]);
    const closed = report.closed.map((route) => `${route.method} ${route.url}`);
    for (const route of [
      'GET /api/services',
      'POST /api/services/:name/:action',
      'GET /api/dead-letters',
      'POST /api/dead-letters/:id/replay',
      'GET /api/faults',
      'PUT /api/faults',
    ]) {
      expect(closed).toContain(route);
    }
    // Opening a route is a decision: this list changes only on purpose.
    expect([...new Set(report.open.filter((route) => route.method !== 'HEAD').map((route) => `${route.method} ${route.url}`))].sort()).toEqual(
      [
        'GET /login',
        'POST /login',
        'POST /api/logout',
        'GET /api/session',
        'GET /api/operations/:id',
        'GET /api/operations/:id/events',
        'POST /api/orders',
        'POST /api/v1/orders',
        'POST /api/v2/orders',
        'GET /api/products',
        'POST /api/quotes',
        'GET /api/system',
        'GET /*',
      ].sort(),
    );
  });

  it('answers the operator with the token or a session, and refuses everyone else', async () => {
    expect((await request(`${base}/api/services`)).statusCode).toBe(401);
    const viaToken = await request(`${base}/api/services`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(viaToken.statusCode).toBe(200);
    expect(((await viaToken.body.json()) as { services: unknown[] }).services).toHaveLength(SERVICE_NAMES.length);
    const cookie = await login();
    expect(String(cookie)).toMatch(/^shop_session=/);
    const viaSession = await request(`${base}/api/faults`, { headers: { cookie } });
    expect(await viaSession.body.json()).toEqual({ poison: true });
    // The shopper's side stays open.
    expect((await request(`${base}/api/operations/${ORDER_ID}`)).statusCode).toBe(200);
    expect((await request(`${base}/`)).statusCode).toBe(200);
  });

  it('refuses cross-site stop requests, forms and non-JSON bodies even with a session; the service keeps running', async () => {
    const cookie = await login();
    const stop = (headers: Record<string, string>, body = '{}') =>
      request(`${base}/api/services/payments/stop`, { method: 'POST', headers: { cookie, ...headers }, body });
    const attempts: [Record<string, string>, number, string][] = [
      [{ origin: 'http://localhost:8081', 'content-type': 'application/json' }, 403, HttpErrorCodes.AUTH_CROSS_ORIGIN],
      [{ origin: 'null', 'content-type': 'application/json' }, 403, HttpErrorCodes.AUTH_CROSS_ORIGIN],
      [{ 'content-type': 'application/json' }, 403, HttpErrorCodes.AUTH_CROSS_ORIGIN],
      [{ origin: base, 'content-type': 'text/plain' }, 415, HttpErrorCodes.AUTH_JSON_REQUIRED],
      [{ origin: base, 'content-type': 'application/x-www-form-urlencoded' }, 415, HttpErrorCodes.AUTH_JSON_REQUIRED],
    ];
    for (const [headers, status, code] of attempts) {
      const response = await stop(headers);
      expect(response.statusCode, JSON.stringify(headers)).toBe(status);
      expect(((await response.body.json()) as { code: string }).code).toBe(code);
    }
    expect(desired('payments')).toBe('running');
    const allowed = await stop({ origin: base, 'content-type': 'application/json' });
    expect(allowed.statusCode).toBe(204);
    expect(desired('payments')).toBe('stopped');
    const entries = auditLines
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry.action === 'POST /api/services/:name/:action' && entry.who !== 'anonymous');
    expect(entries.map((entry) => [entry.status, entry.outcome, entry.code])).toEqual([
      [403, 'denied', HttpErrorCodes.AUTH_CROSS_ORIGIN],
      [403, 'denied', HttpErrorCodes.AUTH_CROSS_ORIGIN],
      [403, 'denied', HttpErrorCodes.AUTH_CROSS_ORIGIN],
      [415, 'denied', HttpErrorCodes.AUTH_JSON_REQUIRED],
      [415, 'denied', HttpErrorCodes.AUTH_JSON_REQUIRED],
      [204, 'done', undefined],
    ]);
    expect(new Set(entries.map((entry) => entry.who)).size).toBe(1);
    expect(entries[0]?.who).toMatch(/^session:[0-9a-f]{12}$/);
    expect(auditLines).not.toContain(TOKEN);
  });

  it('caps the event streams of one client: one more answers 429 with a problem', async () => {
    const controllers = [new AbortController(), new AbortController()];
    try {
      for (const controller of controllers) {
        const stream = await request(`${base}/api/operations/${ORDER_ID}/events`, { signal: controller.signal });
        expect(stream.statusCode).toBe(200);
      }
      const refused = await request(`${base}/api/operations/${ORDER_ID}/events`);
      expect(refused.statusCode).toBe(429);
      expect(refused.headers['retry-after']).toBeDefined();
      const problem = (await refused.body.json()) as { code: string; detail: string };
      expect(problem.code).toBe(HttpErrorCodes.OPERATION_TOO_MANY_STREAMS);
      expect(problem.detail).toMatch(/at most 2/);
    } finally {
      for (const controller of controllers) controller.abort();
    }
  });
});
