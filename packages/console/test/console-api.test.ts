import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from '@mailroom/conformance';
import type { Transport } from '@mailroom/core';
import { checkRoutesClosed } from '@mailroom/http/operator-auth';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleApp, createConsoleApp } from '../src/console-app.js';
import { ConsoleErrorCodes } from '../src/errors.js';
import { EDITED_FROM_HEADER } from '../src/letter-view.js';
import { type PoisonedSystem, startPoisonedSystem, transportCases } from './poisoned-system.js';

const TOKEN = 'console-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const sqlite = (await transportCases())[0]!;

interface Group {
  fingerprint: string;
  reason: string;
  count: number;
  types: string[];
  endpoints: string[];
  sampleId: string;
}

describe('the console API on SQLite', () => {
  const isolated = sqlite.isolate();
  const dataDir = mkdtempSync(join(tmpdir(), 'mailroom-console-data-'));
  let transport: Transport;
  let consoleTransport: Transport;
  let poisoned: PoisonedSystem;
  let made: ConsoleApp;
  let app: FastifyInstance;

  const get = async <T>(url: string) => {
    const response = await app.inject({ method: 'GET', url, headers: auth });
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as T;
  };
  const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, headers: auth, payload: payload as object });
  const groups = async () => (await get<{ groups: Group[] }>('/api/groups')).groups;
  const groupOf = async (type: string) => (await groups()).find((group) => group.types.includes(type));
  const deadLetterCount = async () => (await consoleTransport.deadLetters.list({ endpoint: poisoned.endpointName })).length;

  beforeAll(async () => {
    transport = await isolated.connect();
    consoleTransport = await isolated.connect();
    poisoned = await startPoisonedSystem(transport);
    made = await createConsoleApp({ transport: consoleTransport, system: poisoned.system, token: TOKEN, dataDir });
    app = made.app;
    await poisoned.poison({ orders: 5, ships: 4, refunds: 3 });
    await waitUntil(async () => (await deadLetterCount()) === 12, 20_000);
  });

  afterAll(async () => {
    await app?.close();
    await poisoned?.stop();
    await consoleTransport?.close();
    await transport?.close();
    await isolated.cleanUp();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 401 on every route but login and the static UI without credentials (the route table walked)', async () => {
    const report = await checkRoutesClosed(app);
    expect(report.unprotected).toEqual([]);
    expect(report.closed.length).toBeGreaterThanOrEqual(12);
    const open = report.open.map((route) => `${route.method} ${route.url}`);
    expect(open.filter((route) => !['GET /login', 'POST /login', 'POST /logout', 'GET /session'].includes(route))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^(GET|HEAD) \/\*?/)]),
    );
    for (const route of open) expect(route).toMatch(/^(GET \/login|POST \/login|POST \/logout|GET \/session|(GET|HEAD) \/.*)$/);
    for (const route of open) expect(route).not.toMatch(/\/api\//);
  });

  it('groups the dead letters by failure: one group per kind, with counts, endpoints and types', async () => {
    const all = await groups();
    expect(all).toHaveLength(3);
    const byType = Object.fromEntries(all.map((group) => [group.types.join(), group]));
    expect(byType[poisoned.types.order]?.count).toBe(5);
    expect(byType[poisoned.types.ship]?.count).toBe(4);
    expect(byType[poisoned.types.refund]?.count).toBe(3);
    expect(byType[poisoned.types.refund]?.reason).toBe('MAILROOM_ERR_CONTRACT_VALIDATION');
    for (const group of all) expect(group.endpoints).toEqual([poisoned.endpointName]);
  });

  it('pages groups and letters with a cursor', async () => {
    const first = await get<{ groups: Group[]; nextCursor?: string; total: number }>('/api/groups?limit=2');
    expect(first.groups).toHaveLength(2);
    expect(first.total).toBe(3);
    const second = await get<{ groups: Group[]; nextCursor?: string }>(`/api/groups?limit=2&cursor=${first.nextCursor}`);
    expect(second.groups).toHaveLength(1);
    expect(second.nextCursor).toBeUndefined();
    const letters = await get<{ letters: { id: string }[]; nextCursor?: string }>('/api/letters?limit=5');
    expect(letters.letters).toHaveLength(5);
    const rest = await get<{ letters: { id: string }[]; nextCursor?: string }>(`/api/letters?limit=50&cursor=${letters.nextCursor}`);
    expect(new Set([...letters.letters, ...rest.letters].map((letter) => letter.id)).size).toBe(12);
    const bad = await app.inject({ method: 'GET', url: '/api/letters?cursor=not-a-cursor', headers: auth });
    expect(bad.statusCode).toBe(400);
  });

  it('shows one letter: pretty body, headers, error, attempts, and the contract it is checked against', async () => {
    const group = await groupOf(poisoned.types.ship);
    const detail = await get<{ letter: Record<string, unknown>; contract: { known: boolean; jsonSchema: unknown } }>(`/api/letters/${group?.sampleId}`);
    expect(detail.letter.type).toBe(poisoned.types.ship);
    expect(detail.letter.body).toMatch(/^\{\n {2}"orderId": \d+,\n {2}"address": ""\n\}$/);
    expect(detail.letter.errorMessage).toMatch(/no shipping address for order \d+/);
    expect(detail.letter.attempts).toBe(1);
    expect((detail.letter.headers as Record<string, string>)['ce-type']).toBe(poisoned.types.ship);
    expect(detail.contract.known).toBe(true);
    expect(detail.contract.jsonSchema).toMatchObject({ type: 'object' });
  });

  it('refuses an edit that is not JSON or fails the contract: 422, nothing sent, nothing archived, the letter kept', async () => {
    const group = await groupOf(poisoned.types.ship);
    const id = group?.sampleId as string;
    const notJson = await post(`/api/letters/${id}/edit-and-retry`, { body: '{ nope' });
    expect(notJson.statusCode).toBe(422);
    expect(notJson.json().code).toBe(ConsoleErrorCodes.CONSOLE_EDIT_INVALID);
    const invalid = await post(`/api/letters/${id}/edit-and-retry`, { body: JSON.stringify({ orderId: 'x', address: 12 }) });
    expect(invalid.statusCode).toBe(422);
    expect(invalid.json().detail).toMatch(/orderId/);
    expect((await consoleTransport.deadLetters.get(id)).id).toBe(id);
    expect(made.context.archive.list()).toEqual([]);
    expect(poisoned.handled.get(poisoned.types.ship)).toBeUndefined();
  });

  it('edits and retries: sent under a new id with mailroom-edited-from, handled, the original archived and linked both ways', async () => {
    const group = await groupOf(poisoned.types.ship);
    const id = group?.sampleId as string;
    const original = await consoleTransport.deadLetters.get(id);
    const response = await post(`/api/letters/${id}/edit-and-retry`, { body: JSON.stringify({ orderId: 7, address: '1 Main St' }) });
    expect(response.statusCode, response.body).toBe(200);
    const result = response.json() as { newMessageId: string; archivedId: string; checkedAgainst: string };
    expect(result.newMessageId).not.toBe(original.messageId);
    expect(result.checkedAgainst).toBe('contract');
    await waitUntil(async () => (poisoned.handled.get(poisoned.types.ship) ?? []).length === 1, 10_000);
    expect(poisoned.handled.get(poisoned.types.ship)).toEqual([{ orderId: 7, address: '1 Main St' }]);
    expect((await app.inject({ method: 'GET', url: `/api/letters/${id}`, headers: auth })).statusCode).toBe(404);
    const archived = await get<{ letter: { messageId: string; body: string }; editedTo: string }>(`/api/archive/${id}`);
    expect(archived.letter.messageId).toBe(original.messageId);
    expect(JSON.parse(archived.letter.body)).toEqual(JSON.parse(Buffer.from(original.body).toString('utf8')));
    expect(archived.editedTo).toBe(result.newMessageId);
    // The archive survives a restart of the console: it is read back from its file.
    const again = await createConsoleApp({ transport: consoleTransport, token: TOKEN, dataDir });
    expect(again.context.archive.get(id)?.editedTo).toBe(result.newMessageId);
    await again.app.close();
    expect(EDITED_FROM_HEADER).toBe('mailroom-edited-from');
  });

  it('links a resent edit that fails again back to its archived original', async () => {
    const group = await groupOf(poisoned.types.ship);
    const id = group?.sampleId as string;
    const original = await consoleTransport.deadLetters.get(id);
    const response = await post(`/api/letters/${id}/edit-and-retry`, { body: JSON.stringify({ orderId: 8, address: ' ' }) });
    expect(response.statusCode).toBe(200);
    const { newMessageId } = response.json() as { newMessageId: string };
    await waitUntil(async () => (await consoleTransport.deadLetters.list()).some((letter) => letter.messageId === newMessageId), 10_000);
    const resent = (await consoleTransport.deadLetters.list()).find((letter) => letter.messageId === newMessageId);
    expect(resent?.headers[EDITED_FROM_HEADER]).toBe(original.messageId);
    const detail = await get<{ letter: { editedFrom: string }; editedFromArchiveId: string }>(`/api/letters/${resent?.id}`);
    expect(detail.letter.editedFrom).toBe(original.messageId);
    expect(detail.editedFromArchiveId).toBe(id);
  });

  it('retries a whole group as a job with progress', async () => {
    poisoned.state.ordersBroken = false;
    const group = await groupOf(poisoned.types.order);
    const started = await post('/api/retry', { fingerprint: group?.fingerprint });
    expect(started.statusCode).toBe(202);
    const { job } = started.json() as { job: { id: string } };
    await waitUntil(async () => (await get<{ job: { state: string } }>(`/api/jobs/${job.id}`)).job.state === 'done', 10_000);
    const done = (await get<{ job: { total: number; done: number; failed: number } }>(`/api/jobs/${job.id}`)).job;
    expect(done).toMatchObject({ total: 5, done: 5, failed: 0 });
    await waitUntil(async () => (poisoned.handled.get(poisoned.types.order) ?? []).length === 5, 10_000);
    expect(await groupOf(poisoned.types.order)).toBeUndefined();
  });

  it('retries selected letters, and all before a cut-off time', async () => {
    poisoned.state.ordersBroken = true;
    await poisoned.poison({ orders: 2, ships: 0, refunds: 0 });
    await waitUntil(async () => (await groupOf(poisoned.types.order))?.count === 2, 10_000);
    poisoned.state.ordersBroken = false;
    const letters = (await get<{ letters: { id: string; type: string }[] }>('/api/letters?limit=200')).letters.filter((l) => l.type === poisoned.types.order);
    const one = await post('/api/retry', { ids: [letters[0]?.id] });
    expect(one.statusCode).toBe(202);
    await waitUntil(async () => (poisoned.handled.get(poisoned.types.order) ?? []).length === 6, 10_000);
    const before = await post('/api/retry', { before: new Date(0).toISOString() });
    const { job } = before.json() as { job: { id: string } };
    await waitUntil(async () => (await get<{ job: { state: string } }>(`/api/jobs/${job.id}`)).job.state === 'done', 10_000);
    expect((await get<{ job: { total: number } }>(`/api/jobs/${job.id}`)).job.total).toBe(0);
    const cut = await post('/api/retry', { before: new Date(Date.now() + 60_000).toISOString() });
    expect(cut.statusCode).toBe(202);
    await waitUntil(async () => (poisoned.handled.get(poisoned.types.order) ?? []).length === 7, 10_000);
  });

  it('purges only with the confirm token the server issued for exactly that selection (428 otherwise)', async () => {
    const group = (await groupOf(poisoned.types.refund)) as Group;
    const first = await post('/api/purge', { fingerprint: group.fingerprint });
    expect(first.statusCode).toBe(428);
    expect(first.json()).toMatchObject({ code: ConsoleErrorCodes.CONSOLE_CONFIRMATION_REQUIRED, count: 3 });
    const token = first.json().confirmToken as string;
    const other = await post('/api/purge', { all: true, confirmToken: token });
    expect(other.statusCode).toBe(428);
    const reused = await post('/api/purge', { fingerprint: group.fingerprint, confirmToken: token });
    expect(reused.statusCode).toBe(428);
    expect((await groupOf(poisoned.types.refund))?.count).toBe(3);
    const again = await post('/api/purge', { fingerprint: group.fingerprint });
    const purged = await post('/api/purge', { fingerprint: group.fingerprint, confirmToken: again.json().confirmToken });
    expect(purged.statusCode).toBe(200);
    expect(purged.json()).toEqual({ purged: 3 });
    expect(await groupOf(poisoned.types.refund)).toBeUndefined();
  });

  it('archives with confirmation: the letter leaves the queue and is kept in the archive', async () => {
    const group = (await groupOf(poisoned.types.ship)) as Group;
    const first = await post('/api/archive', { ids: [group.sampleId] });
    expect(first.statusCode).toBe(428);
    const done = await post('/api/archive', { ids: [group.sampleId], confirmToken: first.json().confirmToken });
    expect(done.json()).toEqual({ archived: 1 });
    const archive = await get<{ letters: { id: string; archivedBy: string }[] }>('/api/archive');
    expect(archive.letters.map((letter) => letter.id)).toContain(group.sampleId);
    expect(archive.letters[0]?.archivedBy).toMatch(/^token:/);
  });

  it('refuses cross-origin and non-JSON mutations from a browser session', async () => {
    const login = await app.inject({ method: 'POST', url: '/login', payload: { token: TOKEN } });
    const cookie = login.cookies.find((c) => c.name === 'mailroom_console_session');
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe('Strict');
    const cookieHeader = `${cookie?.name}=${cookie?.value}`;
    const crossOrigin = await app.inject({
      method: 'POST',
      url: '/api/retry',
      headers: { cookie: cookieHeader, origin: 'https://evil.example', 'content-type': 'application/json' },
      payload: JSON.stringify({ all: true }),
    });
    expect(crossOrigin.statusCode).toBe(403);
    const form = await app.inject({
      method: 'POST',
      url: '/api/retry',
      headers: { cookie: cookieHeader, origin: 'http://localhost:80', host: 'localhost:80', 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'all=true',
    });
    expect(form.statusCode).toBe(415);
  });

  it('audits every action with who, when, what and ids, in the UI and in audit.jsonl', async () => {
    const { entries } = await get<{ entries: { who: string; action: string; ids?: string[]; at: string }[] }>('/api/audit');
    const actions = entries.map((entry) => entry.action);
    expect(actions).toEqual(expect.arrayContaining(['retry', 'edit-and-retry', 'purge', 'archive', 'POST /api/purge', 'POST /login']));
    const edit = entries.find((entry) => entry.action === 'edit-and-retry');
    expect(edit?.who).toMatch(/^token:/);
    expect(edit?.ids).toHaveLength(3);
    // The route-table walk's requests without credentials are audited too, as denied.
    const anonymous = entries.filter((entry) => entry.who === 'anonymous');
    expect(anonymous.length).toBeGreaterThan(0);
    for (const entry of anonymous) expect(entry).toMatchObject({ outcome: 'denied', status: 401 });
    const file = join(dataDir, 'audit.jsonl');
    expect(existsSync(file)).toBe(true);
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { action: string });
    expect(lines.map((line) => line.action)).toEqual(expect.arrayContaining(['edit-and-retry', 'purge']));
    expect(readFileSync(file, 'utf8')).not.toContain(TOKEN);
  });

  it('says clearly that no contract is known when started without a system, and still checks edits as JSON', async () => {
    const bare = await createConsoleApp({ transport: consoleTransport, token: TOKEN, dataDir: mkdtempSync(join(tmpdir(), 'mailroom-console-bare-')) });
    const letters = (await consoleTransport.deadLetters.list({ endpoint: poisoned.endpointName })).filter((l) => l.type === poisoned.types.ship);
    const response = await bare.app.inject({ method: 'GET', url: `/api/letters/${letters[0]?.id}`, headers: auth });
    expect(response.json().contract).toMatchObject({ known: false, note: expect.stringMatching(/No contract is known/) });
    const graph = await bare.app.inject({ method: 'GET', url: '/api/graph', headers: auth });
    expect(graph.json()).toEqual({ known: false });
    await bare.app.close();
  });

  it('lays out the choreography graph of the system', async () => {
    const { layout } = await get<{ layout: { nodes: { kind: string; label: string }[]; edges: unknown[] } }>('/api/graph');
    expect(layout.nodes.filter((node) => node.kind === 'endpoint').map((node) => node.label)).toEqual([poisoned.endpointName]);
    expect(layout.nodes.filter((node) => node.kind !== 'endpoint')).toHaveLength(3);
    expect(layout.edges).toHaveLength(3);
  });
});
