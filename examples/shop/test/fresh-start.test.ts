// npm start keeps the shop's state across runs (and says where); npm start -- --fresh wipes it first:
// the SQLite files it wrote, and on a broker the dead letters and queues of its endpoints.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Services, serviceAvailable } from '@mailroom/conformance';
import { connectTransport } from '@mailroom/core';
import { createNatsNames } from '@mailroom/nats';
import { jetstream } from '@nats-io/jetstream';
import { connect as natsConnect } from '@nats-io/transport-node';
import amqplib from 'amqplib';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { CatalogResponse } from '../src/gateway/api-types.js';
import { deleteNatsPrefix, deleteRabbitNamespace } from './support/cleanup.js';
import { startShop } from './support/shop-process.js';

const RABBITMQ_URL = process.env.MAILROOM_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const NATS_URL = process.env.MAILROOM_NATS_URL ?? 'nats://127.0.0.1:4222';
const rabbit = await serviceAvailable(Services.rabbitmq);
const nats = await serviceAvailable(Services.nats);
for (const [name, ok] of [
  ['RabbitMQ', rabbit],
  ['NATS', nats],
] as const) {
  if (ok) continue;
  if (process.env.CI) throw new Error(`${name} is required under CI for the --fresh test on it`);
  console.warn(`[mailroom] skipping the --fresh test on ${name}: it is not running`);
}
const dir = mkdtempSync(join(tmpdir(), 'shop-fresh-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function mugStock(url: string): Promise<number> {
  for (const deadline = Date.now() + 30_000; ; ) {
    const response = await fetch(`${url}/api/products`);
    if (response.ok) {
      const catalog = (await response.json()) as CatalogResponse;
      if (catalog.source === 'live') return catalog.products.find((product) => product.sku === 'mug')?.stock as number;
    }
    if (Date.now() > deadline) throw new Error(`no live catalog from ${url}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('npm start state and --fresh', () => {
  it('keeps a sold-out mug sold out across runs (and says where the state is); --fresh restocks it and keeps other files', async () => {
    const data = join(dir, 'embedded');
    const env = { SHOP_DATA_DIR: data, MAILROOM_TRANSPORT: '', SHOP_PG_URL: '' };
    let shop = await startShop(env);
    const initial = await mugStock(shop.url);
    expect(initial).toBeGreaterThan(0);
    expect(shop.logs()).toContain(`state: kept across runs and modes in ${data}`);
    expect(await shop.stop()).toBe(0);

    const inventory = new BetterSqlite3(join(data, 'inventory.db'));
    inventory.prepare("UPDATE products SET stock = 0 WHERE sku = 'mug'").run();
    inventory.close();
    shop = await startShop(env);
    expect(await mugStock(shop.url)).toBe(0);
    expect(await shop.stop()).toBe(0);

    writeFileSync(join(data, 'notes.txt'), 'not the shop’s');
    shop = await startShop(env, 120_000, ['--fresh']);
    expect(shop.logs()).toMatch(/--fresh: wiped \d+ SQLite file\(s\) in /);
    expect(shop.logs()).not.toContain('state: kept across runs');
    expect(await mugStock(shop.url)).toBe(initial);
    expect(await shop.stop()).toBe(0);
    expect(existsSync(join(data, 'notes.txt'))).toBe(true);
  }, 240_000);

  it.runIf(rabbit)(
    "on RabbitMQ: --fresh purges the dead letters and deletes the queues of the shop's endpoints",
    async () => {
      const namespace = `shopf${randomBytes(5).toString('hex')}`;
      const env = { SHOP_DATA_DIR: join(dir, 'rabbit'), MAILROOM_TRANSPORT: RABBITMQ_URL, SHOP_NAMESPACE: namespace, SHOP_PG_URL: '' };
      try {
        let shop = await startShop(env);
        expect(await shop.stop()).toBe(0);
        // While the shop is down: a message waits in payments' queue, and a dead letter of payments is recorded.
        const connection = await amqplib.connect(RABBITMQ_URL);
        const channel = await connection.createConfirmChannel();
        channel.sendToQueue(`${namespace}.payments`, Buffer.from('left over'), { persistent: true });
        await channel.waitForConfirms();
        await connection.close();
        const transport = await connectTransport(RABBITMQ_URL, { namespace, queueName: (endpoint: string) => `${namespace}.${endpoint}` });
        try {
          const queues = await transport.queues();
          expect(queues.find((queue) => queue.endpoint === 'payments')?.depth).toBe(1);
        } finally {
          await transport.close();
        }

        shop = await startShop(env, 120_000, ['--fresh']);
        expect(shop.logs()).toMatch(/--fresh: wiped \d+ dead letter\(s\) and the queues of the shop's endpoints on amqp:/);
        const after = await connectTransport(RABBITMQ_URL, { namespace, queueName: (endpoint: string) => `${namespace}.${endpoint}` });
        try {
          // The queue was deleted before the shop started: the left-over message is gone, not handled or dead-lettered.
          expect((await after.queues()).find((queue) => queue.endpoint === 'payments')?.depth).toBe(0);
          expect(await after.deadLetters.list({ endpoint: 'payments' })).toEqual([]);
        } finally {
          await after.close();
        }
        expect(await shop.stop()).toBe(0);
      } finally {
        await deleteRabbitNamespace(RABBITMQ_URL, namespace);
      }
    },
    240_000,
  );

  it.runIf(nats)(
    "on NATS JetStream: --fresh drops the commands queued for the shop's endpoints and their consumers",
    async () => {
      const prefix = `shopf${randomBytes(5).toString('hex')}`;
      const env = { SHOP_DATA_DIR: join(dir, 'nats'), MAILROOM_TRANSPORT: NATS_URL, SHOP_NAMESPACE: prefix, SHOP_PG_URL: '' };
      try {
        let shop = await startShop(env);
        expect(await shop.stop()).toBe(0);
        // While the shop is down: an unreadable command waits for payments (it would be dead-lettered once read).
        const names = createNatsNames(prefix);
        const connection = await natsConnect({ servers: NATS_URL });
        await jetstream(connection).publish(names.commandSubject('payments', 'shop.Garbage'), 'left over');
        await connection.close();

        shop = await startShop(env, 120_000, ['--fresh']);
        expect(shop.logs()).toMatch(/--fresh: wiped \d+ dead letter\(s\) and the consumers and queued commands of the shop's endpoints on nats:/);
        const after = await connectTransport(NATS_URL, { prefix });
        try {
          await new Promise((resolve) => setTimeout(resolve, 1000));
          expect(await after.deadLetters.list({ endpoint: 'payments' })).toEqual([]);
        } finally {
          await after.close();
        }
        expect(await shop.stop()).toBe(0);
      } finally {
        await deleteNatsPrefix(NATS_URL, prefix);
      }
    },
    240_000,
  );
});
