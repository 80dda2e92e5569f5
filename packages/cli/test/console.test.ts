// `mailroom console` as a user runs it: a child process on a SQLite broker, the config's system,
// a generated token printed once as a login link (or MAILROOM_CONSOLE_TOKEN, never printed), loopback, SIGTERM stops it;
// it watches endpoint heartbeats.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { waitUntil } from '@mailroom/conformance';
import { createEndpoint } from '@mailroom/core';
import { createSqliteTransport } from '@mailroom/sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliRoot } from './run-mailroom.js';

const tsxLoader = pathToFileURL(join(cliRoot, '..', '..', 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const dir = mkdtempSync(join(tmpdir(), 'mailroom-cli-console-'));
const broker = join(dir, 'broker.db');
const config = join(cliRoot, 'test', 'fixtures', 'contracts', 'base.config.ts');

function startConsoleCommand(env: Record<string, string> = {}): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(
    process.execPath,
    [
      '--conditions=source',
      '--import',
      tsxLoader,
      join(cliRoot, 'src', 'bin.ts'),
      'console',
      '--transport',
      broker,
      '--config',
      config,
      '--port',
      '0',
      '--data-dir',
      join(dir, 'data'),
    ],
    { cwd: dir, env: { ...process.env, MAILROOM_LOG_LEVEL: 'silent', MAILROOM_CONSOLE_TOKEN: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

beforeAll(async () => {
  await createSqliteTransport({ path: broker }).close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mailroom console', () => {
  it('prints its loopback URL and a login link with a generated token, serves the config system, and stops on SIGTERM', async () => {
    const run = startConsoleCommand();
    try {
      await waitUntil(async () => /Log in/.test(run.output()), 30_000);
      const match = /Log in \(generated token, printed once\): (http:\/\/127\.0\.0\.1:(\d+))\/login\?token=(\S+)/.exec(run.output());
      expect(match, run.output()).not.toBeNull();
      const [, base, , token] = match as RegExpExecArray;
      expect(run.output()).toContain(`Mailroom console on ${base} (sqlite, 4 contracts)`);
      expect((await fetch(`${base}/api/overview`)).status).toBe(401);
      const overview = (await (
        await fetch(`${base}/api/overview`, { headers: { authorization: `Bearer ${decodeURIComponent(token as string)}` } })
      ).json()) as {
        transport: string;
        endpoints: string[];
      };
      expect(overview).toMatchObject({ transport: 'sqlite', endpoints: ['orders', 'billing', 'shipping'] });
    } finally {
      run.child.kill('SIGTERM');
    }
    expect(await run.exited).toBe(0);
  });

  it('shows the instances of endpoints from their heartbeats', async () => {
    const token = 'a-console-token-for-heartbeats';
    const run = startConsoleCommand({ MAILROOM_CONSOLE_TOKEN: token });
    const transport = createSqliteTransport({ path: broker });
    const worker = createEndpoint({ name: 'cli-console-worker', transport, heartbeat: { intervalMs: 200 } });
    try {
      await waitUntil(async () => /Log in/.test(run.output()), 30_000);
      const base = /Mailroom console on (\S+)/.exec(run.output())?.[1] as string;
      await worker.start();
      const instances = async () =>
        (
          (await (await fetch(`${base}/api/endpoints`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
            heartbeats: { endpoint: string; alive: boolean }[];
          }
        ).heartbeats;
      await waitUntil(async () => (await instances()).some((i) => i.endpoint === 'cli-console-worker' && i.alive), 30_000);
    } finally {
      await worker.stop();
      await transport.close();
      run.child.kill('SIGTERM');
    }
    expect(await run.exited).toBe(0);
  });

  it('takes MAILROOM_CONSOLE_TOKEN and never prints it', async () => {
    const token = 'a-console-token-from-the-environment';
    const run = startConsoleCommand({ MAILROOM_CONSOLE_TOKEN: token });
    try {
      await waitUntil(async () => /Log in/.test(run.output()), 30_000);
      expect(run.output()).toContain('Log in with the token in MAILROOM_CONSOLE_TOKEN');
      expect(run.output()).not.toContain(token);
      const base = /Mailroom console on (\S+)/.exec(run.output())?.[1] as string;
      expect((await fetch(`${base}/api/groups`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    } finally {
      run.child.kill('SIGTERM');
    }
    expect(await run.exited).toBe(0);
  });
});
