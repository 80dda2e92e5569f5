import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Services, serviceAvailable } from '@mailroom/conformance';
import { connectTransport, ErrorCodes } from '@mailroom/core';
import { afterAll, describe, expect, it } from 'vitest';
import { CliErrorCodes } from '../src/errors.js';
import { ExitCodes } from '../src/exit-codes.js';
import { mailroom } from './run-mailroom.js';

const dir = mkdtempSync(join(tmpdir(), 'mailroom-cli-errors-'));
const rabbit = await serviceAvailable(Services.rabbitmq);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function adapterReady(name: string): Promise<boolean> {
  try {
    return typeof ((await import(name)) as { createTransportFromUrl?: unknown }).createTransportFromUrl === 'function';
  } catch {
    return false;
  }
}

/** A TCP server that accepts connections and never says a word: a broker that hangs. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('mailroom error handling', () => {
  it('refuses a SQLite broker file that does not exist, and does not create it', async () => {
    const file = join(dir, 'missing', 'broker.db');
    const run = await mailroom(['dlq', 'list', '--transport', file]);
    expect(run.code).toBe(ExitCodes.TRANSPORT);
    expect(run.stderr).toContain(`SQLite broker file ${file} does not exist`);
    expect(run.stderr).toContain(CliErrorCodes.BROKER_FILE_NOT_FOUND);
    expect(existsSync(join(dir, 'missing'))).toBe(false);
  });

  it('names the supported schemes for an unsupported URL, without its password', async () => {
    const run = await mailroom(['topology'], { env: { MAILROOM_TRANSPORT: 'redis://admin:hunter2@cache:6379' } });
    expect(run.code).toBe(ExitCodes.TRANSPORT);
    expect(run.stderr).toContain(ErrorCodes.TRANSPORT_URL);
    expect(run.stderr).toContain('redis://admin:***@cache:6379');
    expect(run.stderr).not.toContain('hunter2');
  });

  it('takes the transport from the config file (here an async function) when neither --transport nor MAILROOM_TRANSPORT is given', async () => {
    const project = mkdtempSync(join(dir, 'project-'));
    const broker = join(project, 'data', 'broker.db');
    writeFileSync(
      join(project, 'mailroom.config.mjs'),
      `export default async () => ({ transport: 'sqlite:./data/broker.db?synchronous=full', endpoints: [] });\n`,
    );
    mkdirSync(join(project, 'src'));
    // Run from a subdirectory: the relative path is relative to the config file.
    const missing = await mailroom(['topology'], { cwd: join(project, 'src') });
    expect(missing.code).toBe(ExitCodes.TRANSPORT);
    expect(missing.stderr).toContain(`SQLite broker file ${broker} does not exist`);
    const transport = await connectTransport(broker);
    await transport.close();
    const run = await mailroom(['topology', '--json'], { cwd: join(project, 'src') });
    expect(run.code).toBe(ExitCodes.OK);
    expect(JSON.parse(run.stdout)).toEqual({ transport: 'sqlite', queues: [] });
  });

  const adapters = [
    { name: 'RabbitMQ', adapter: '@mailroom/rabbitmq', url: (port: number) => `amqp://bob:hunter%2F2@127.0.0.1:${port}`, secret: /hunter/ },
    { name: 'NATS', adapter: '@mailroom/nats', url: (port: number) => `nats://s3cr3t-t0ken@127.0.0.1:${port}`, secret: /s3cr3t/ },
  ];
  describe.each(adapters)('with the $name adapter', ({ adapter, url, secret }) => {
    it('gives up on a broker that accepts the connection but never answers, after --timeout, without printing credentials', async (context) => {
      if (!(await adapterReady(adapter))) context.skip();
      const server = await silentServer();
      try {
        // Debug logs on: the adapter's log lines (on standard error) must not leak credentials either.
        const run = await mailroom(['dlq', 'list', '--json', '--transport', url(server.port), '--timeout', '1000'], { env: { MAILROOM_LOG_LEVEL: 'debug' } });
        expect(run.code).toBe(ExitCodes.TRANSPORT);
        expect(run.stdout).toBe('');
        expect(run.stderr).toContain('did not answer within 1000 ms');
        expect(run.stderr).toContain(ErrorCodes.TRANSPORT_UNAVAILABLE);
        expect(run.stderr + run.stdout).not.toMatch(secret);
      } finally {
        await server.close();
      }
    });

    it('reports a refused connection as a transport error, without printing credentials', async (context) => {
      if (!(await adapterReady(adapter))) context.skip();
      const server = await silentServer();
      await server.close(); // a port nothing listens on any more
      const run = await mailroom(['topology', '--transport', url(server.port), '--timeout', '3000']);
      expect(run.code).toBe(ExitCodes.TRANSPORT);
      expect(run.stderr).toMatch(/MAILROOM_ERR_TRANSPORT_UNAVAILABLE/);
      expect(run.stderr + run.stdout).not.toMatch(secret);
    });
  });

  it.runIf(rabbit)('exits 4 (transport) when RabbitMQ refuses the password, as --help promises, without printing it', async () => {
    const run = await mailroom(['topology', '--transport', 'amqp://guest:not-the-password@127.0.0.1:5672']);
    expect(run.code).toBe(ExitCodes.TRANSPORT);
    expect(run.stderr).toContain('MAILROOM_ERR_RABBITMQ_ACCESS_REFUSED');
    expect(run.stderr).toContain('wrong user name or password');
    expect(run.stderr).not.toContain('not-the-password');
  });

  it('without a transport or a config file, points at --transport, MAILROOM_TRANSPORT and --config', async () => {
    const empty = mkdtempSync(join(dir, 'empty-'));
    const run = await mailroom(['dlq', 'list'], { cwd: empty });
    expect(run.code).toBe(ExitCodes.USAGE);
    expect(run.stderr).toContain('pass --transport URL or set MAILROOM_TRANSPORT');
    expect(run.stderr).toContain(`point at a config file that names one with --config path/to/mailroom.config.ts (none found in ${empty} or above)`);
  });
});
