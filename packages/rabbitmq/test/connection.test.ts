import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Services, serviceAvailable, startProxy, testMessage, uniqueName, waitUntil } from '@mailroom/conformance';
import { connectTransport, ErrorCodes, HeaderNames, isMailroomError } from '@mailroom/core';
import { connect } from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { createRabbitMqTransport, RabbitMqErrorCodes, type RabbitMqTransport } from '../src/index.js';
import { holdSharedBrokerLock } from './broker-lock.js';
import { capturingLogger, deleteNamespace, RABBITMQ_URL, testNamespace } from './support.js';

const available = await serviceAvailable(Services.rabbitmq);
const namespace = testNamespace('connection');
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const SECRET = 'sEcReT-pa55';

async function roundTrip(transport: RabbitMqTransport): Promise<void> {
  const endpoint = uniqueName('conn');
  const type = uniqueName('Conn');
  const got: string[] = [];
  await transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 1 }, async (d) => {
    got.push(d.headers[HeaderNames.id] as string);
    await d.ack();
  });
  const message = testMessage(type, json({ ok: true }));
  await transport.publish(message);
  await waitUntil(() => got.length === 1, 10_000);
  expect(got).toEqual([message.headers[HeaderNames.id]]);
}

describe.runIf(available)('rabbitmq transport connections', () => {
  holdSharedBrokerLock();
  afterAll(() => deleteNamespace(namespace));

  it('refuses wrong credentials and an unknown vhost at once with MAILROOM_ERR_RABBITMQ_ACCESS_REFUSED, never showing the password', async () => {
    const logger = capturingLogger();
    for (const [url, hint] of [
      [`amqp://guest:${SECRET}@127.0.0.1:5672`, /user name or password/],
      [`amqp://guest:guest@127.0.0.1:5672/no-such-vhost-${SECRET}`, /vhost/],
    ] as const) {
      const started = performance.now();
      const error = await createRabbitMqTransport({ url, namespace, logger, connectTimeoutMs: 20_000 }).catch((e: unknown) => e);
      expect(isMailroomError(error, RabbitMqErrorCodes.ACCESS_REFUSED), String(error)).toBe(true);
      expect((error as Error).message).toMatch(hint);
      expect(performance.now() - started, 'a refusal is not retried until the connect timeout').toBeLessThan(20_000);
      if (url.includes(`guest:${SECRET}`)) expect((error as Error).message).not.toContain(SECRET);
    }
    expect(JSON.stringify(logger.lines)).not.toContain(`guest:${SECRET}`);
  });

  it('rejects with MAILROOM_ERR_TRANSPORT_UNAVAILABLE when nothing answers within connectTimeoutMs', async () => {
    const proxy = await startProxy();
    proxy.refuse(true);
    try {
      const logger = capturingLogger();
      const error = await createRabbitMqTransport({ url: `amqp://guest:${SECRET}@127.0.0.1:${proxy.port}`, connectTimeoutMs: 500, logger }).catch(
        (e: unknown) => e,
      );
      expect(isMailroomError(error, ErrorCodes.TRANSPORT_UNAVAILABLE), String(error)).toBe(true);
      expect((error as Error).message).toContain('guest:***@');
      expect((error as Error).message).not.toContain(SECRET);
      expect(JSON.stringify(logger.lines)).not.toContain(SECRET);
    } finally {
      await proxy.close();
    }
  });

  it('works over the user own amqplib connection, and leaves it open on close', async () => {
    const amqp = await connect(RABBITMQ_URL);
    try {
      const transport = await createRabbitMqTransport({ connection: amqp, namespace });
      await roundTrip(transport);
      await transport.close();
      const channel = await amqp.createChannel();
      await channel.close();
    } finally {
      await amqp.close();
    }
  });

  it('turns unavailable for good when the user own plain connection closes under a subscription, and keeps running timers', async () => {
    const proxy = await startProxy();
    const amqp = await connect(`amqp://guest:guest@127.0.0.1:${proxy.port}`);
    amqp.on('error', () => undefined);
    const logger = capturingLogger();
    const transport = await createRabbitMqTransport({ connection: amqp, namespace, logger, reconnectInitialDelayMs: 50, reconnectMaxDelayMs: 100 });
    try {
      await roundTrip(transport);
      proxy.cut();
      await new Promise((resolve) => setTimeout(resolve, 300)); // a starved event loop never gets here
      const error = await transport.publish(testMessage(uniqueName('Lost'), json({}))).catch((e: unknown) => e);
      expect(isMailroomError(error, ErrorCodes.TRANSPORT_UNAVAILABLE), String(error)).toBe(true);
      expect((error as Error).message).toMatch(/cannot reconnect/);
      const lost = logger.lines.filter((line) => (line.fields as { event?: string }).event === 'consumer-lost');
      expect(lost.length, 'the subscription stops trying once the connection is lost for good').toBeLessThanOrEqual(2);
    } finally {
      await transport.close();
      await proxy.close();
    }
  });

  it('follows a recovering amqplib connection (connect(url, { recovery })) through a cut', async () => {
    const proxy = await startProxy();
    const amqp = await connect(`amqp://guest:guest@127.0.0.1:${proxy.port}`, { recovery: { initialDelay: 50, maxDelay: 300 } });
    const transport = await createRabbitMqTransport({ connection: amqp, namespace, reconnectInitialDelayMs: 50 });
    try {
      await roundTrip(transport);
      proxy.cut();
      await roundTrip(transport);
    } finally {
      await transport.close();
      await amqp.close();
      await proxy.close();
    }
  });

  it('is what connectTransport loads for amqp:// URLs', async () => {
    const transport = await connectTransport(RABBITMQ_URL, { namespace });
    try {
      expect(transport.name).toBe('rabbitmq');
      await roundTrip(transport as RabbitMqTransport);
    } finally {
      await transport.close();
    }
  });

  it('speaks amqps:// (TLS) with the CA given in socketOptions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-tls-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
          '-addext',
          'subjectAltName=DNS:localhost',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      const cert = readFileSync(join(dir, 'cert.pem'));
      const proxy = await startProxy(5672, { key: readFileSync(join(dir, 'key.pem')), cert });
      try {
        const url = `amqps://guest:guest@localhost:${proxy.port}`;
        const untrusted = await createRabbitMqTransport({ url, namespace, connectTimeoutMs: 20_000 }).catch((e: unknown) => e);
        expect(isMailroomError(untrusted, RabbitMqErrorCodes.TLS), `a self-signed certificate is refused at once without its CA: ${String(untrusted)}`).toBe(
          true,
        );
        expect((untrusted as Error).message).toContain('socketOptions.ca');
        const transport = await createRabbitMqTransport({ url, namespace, socketOptions: { ca: [cert] } });
        try {
          await roundTrip(transport);
        } finally {
          await transport.close();
        }
      } finally {
        await proxy.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
