// Wrong credentials and bad URLs are not transient: the transport's connect rejects at once with a
// typed error, and the shop stops (exit code 1) with that message instead of restarting its
// services forever. Passwords never appear in the output.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Services, serviceAvailable, uniqueName } from '@mailroom/conformance';
import { connectTransport, ErrorCodes, isMailroomError } from '@mailroom/core';
import { NatsErrorCodes } from '@mailroom/nats';
import { PostgresErrorCodes } from '@mailroom/postgres';
import { RabbitMqErrorCodes } from '@mailroom/rabbitmq';
import { afterAll, describe, expect, it } from 'vitest';
import { NATS_SERVER, startOwnNatsServer } from './support/own-nats-server.js';
import { runShopToExit } from './support/shop-process.js';

const PASSWORD = 'not-the-password-42';
const RABBITMQ_HOST = '127.0.0.1:5672';
const rabbit = await serviceAvailable(Services.rabbitmq);
const postgres = await serviceAvailable(Services.postgres);
for (const [name, ok] of [
  ['RabbitMQ', rabbit],
  ['PostgreSQL', postgres],
  ['nats-server (binary)', existsSync(NATS_SERVER)],
] as const) {
  if (ok) continue;
  if (process.env.CI) throw new Error(`${name} is required under CI for the shop's fail-fast tests`);
  console.warn(`[mailroom] skipping the shop's fail-fast tests that need ${name}`);
}

const dir = mkdtempSync(join(tmpdir(), 'shop-fail-fast-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The shop with `env`, as `npm start` runs it, until it gives up; checks it stopped for good with the code and without the password. */
async function shopExits(env: NodeJS.ProcessEnv, code: string): Promise<string> {
  const { code: exitCode, output } = await runShopToExit({ SHOP_DATA_DIR: join(dir, uniqueName('data')), PORT: '0', SHOP_PG_URL: '', ...env });
  expect(exitCode, output).toBe(1);
  expect(output).toContain(code);
  expect(output).not.toContain(PASSWORD);
  // Stopped, not restarted in a loop.
  expect(output).not.toMatch(/exited unexpectedly/);
  return output;
}

describe('fail fast on credentials and URLs that cannot work', () => {
  it.runIf(rabbit)(
    'RabbitMQ, wrong password: ACCESS_REFUSED at connect; the shop exits 1 saying what to fix',
    async () => {
      const url = `amqp://guest:${PASSWORD}@${RABBITMQ_HOST}`;
      const error = await connectTransport(url, {}).then(
        async (transport) => transport.close(),
        (e: unknown) => e,
      );
      expect(isMailroomError(error, RabbitMqErrorCodes.ACCESS_REFUSED), String(error)).toBe(true);
      const output = await shopExits({ MAILROOM_TRANSPORT: url }, RabbitMqErrorCodes.ACCESS_REFUSED);
      expect(output).toMatch(/cannot start: RabbitMQ at amqp:\/\/guest:\*\*\*@127\.0\.0\.1:5672 refused the connection: wrong user name or password/);
    },
    90_000,
  );

  it.runIf(existsSync(NATS_SERVER))(
    'NATS, wrong password (a nats-server of our own with --user/--pass): NATS_AUTH at connect; the shop exits 1',
    async () => {
      const server = await startOwnNatsServer('shop', 'the-right-password');
      try {
        const url = `nats://shop:${PASSWORD}@127.0.0.1:${server.port}`;
        const error = await connectTransport(url, { connectTimeoutMs: 5000 }).then(
          async (transport) => transport.close(),
          (e: unknown) => e,
        );
        expect(isMailroomError(error, NatsErrorCodes.NATS_AUTH), String(error)).toBe(true);
        expect((error as Error).message).toMatch(/refused the credentials \(Authorization Violation\): fix the user and password/);
        expect((error as Error).message).not.toContain(PASSWORD);
        const output = await shopExits({ MAILROOM_TRANSPORT: url }, NatsErrorCodes.NATS_AUTH);
        expect(output).toMatch(/cannot start: NATS at nats:\/\/127\.0\.0\.1:\d+ refused the credentials/);
        // The right password connects (the refusal above was about the credentials, not the server).
        const transport = await connectTransport(`nats://shop:the-right-password@127.0.0.1:${server.port}`, { connectTimeoutMs: 5000 });
        await transport.close();
      } finally {
        await server.stop();
      }
    },
    90_000,
  );

  it.runIf(postgres)(
    'PostgreSQL, an unknown user: POSTGRES_ACCESS_REFUSED; the shop exits 1 before starting any service',
    async () => {
      const user = uniqueName('nobody').replace(/-/g, '_');
      const output = await shopExits({ SHOP_PG_URL: `postgres://${user}:${PASSWORD}@127.0.0.1:5432` }, PostgresErrorCodes.POSTGRES_ACCESS_REFUSED);
      expect(output).toContain(`role "${user}" does not exist`);
      expect(output).toContain('fix the user name and password');
    },
    90_000,
  );

  it('a malformed transport URL: TRANSPORT_URL; the shop exits 1', async () => {
    await shopExits({ MAILROOM_TRANSPORT: `amqp://guest:${PASSWORD}@[::1` }, ErrorCodes.TRANSPORT_URL);
  }, 90_000);
});
