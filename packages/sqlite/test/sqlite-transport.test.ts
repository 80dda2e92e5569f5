import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep, testMessage, uniqueName, waitUntil } from '@mailroom/conformance';
import type { Delivery, Transport } from '@mailroom/core';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteTransport } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'mailroom-sqlite-transport-'));
const path = join(dir, 'broker.db');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SQLite transport', () => {
  it('leaves no consumer behind when subscribe() fails: nothing is handed to the handler of a subscription that was refused', async () => {
    const file = join(dir, 'refused.db');
    const transport = createSqliteTransport({ path: file });
    const admin = new Database(file);
    try {
      admin.exec("CREATE TRIGGER refuse_consumers BEFORE INSERT ON mailroom_consumers BEGIN SELECT RAISE(ABORT, 'refused'); END");
      const endpoint = uniqueName('refused');
      const type = uniqueName('Refused');
      let handed = 0;
      await expect(
        transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 1 }, () => {
          handed += 1;
        }),
      ).rejects.toThrow('refused');
      await transport.publish(testMessage(type, new Uint8Array([123, 125])));
      await sleep(300);
      expect(handed).toBe(0);
      expect((await transport.queues()).find((q) => q.endpoint === endpoint)?.depth).toBe(1);
    } finally {
      admin.close();
      await transport.close();
    }
  });

  it('counts a delivery whose lease was lost and that this consumer claimed again as one more in flight: never more handlers than the concurrency', async () => {
    const file = join(dir, 'reclaimed.db');
    const transport = createSqliteTransport({ path: file });
    const admin = new Database(file);
    try {
      const endpoint = uniqueName('reclaimed');
      const type = uniqueName('Reclaimed');
      let running = 0;
      let peak = 0;
      const started: number[] = [];
      let release: () => void = () => undefined;
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      await transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 2 }, async (delivery) => {
        started.push(delivery.body[0] as number);
        peak = Math.max(peak, ++running);
        await released;
        running -= 1;
        await delivery.ack().catch(() => undefined);
      });
      await transport.publish(testMessage(type, new Uint8Array([1])));
      await waitUntil(() => started.length === 1, 5000);
      // The lease of message 1 runs out (as when the process stalled); this consumer takes it again.
      admin.prepare('UPDATE mailroom_messages SET visible_at = 0 WHERE endpoint = ?').run(endpoint);
      await transport.publish(testMessage(type, new Uint8Array([2])));
      await waitUntil(() => started.length >= 2, 5000);
      // Two handlers run: message 2 must wait for one of them.
      await sleep(300);
      expect(started).toEqual([1, 1]);
      release();
      await waitUntil(() => started.length === 3, 5000);
      expect(peak).toBe(2);
    } finally {
      admin.close();
      await transport.close();
    }
  });

  it('hands out a message whose stored headers do not parse with their text in one header (the endpoint dead-letters it), and goes on with the next', async () => {
    const file = join(dir, 'bad-headers.db');
    const transport = createSqliteTransport({ path: file });
    const admin = new Database(file);
    try {
      const endpoint = uniqueName('bad-headers');
      const type = uniqueName('BadHeaders');
      // Declares the endpoint's subscription, so the messages below wait in its queue.
      await (await transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 2 }, () => undefined)).close();
      await transport.publish(testMessage(type, new Uint8Array([1])));
      admin.prepare("UPDATE mailroom_messages SET headers = 'not json' WHERE endpoint = ?").run(endpoint);
      await transport.publish(testMessage(type, new Uint8Array([2])));
      const handed: Delivery[] = [];
      await transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 2 }, async (delivery) => {
        handed.push(delivery);
        await delivery.ack();
      });
      await waitUntil(() => handed.length === 2, 5000);
      const [broken, intact] = [...handed].sort((a, b) => (a.body[0] as number) - (b.body[0] as number));
      expect(broken?.headers).toEqual({ 'mailroom-stored-headers': 'not json' });
      expect(intact?.headers['ce-type']).toBe(type);
    } finally {
      admin.close();
      await transport.close();
    }
  });

  it('renews the lease while a handler runs longer than leaseMs: no other consumer gets the message meanwhile', async () => {
    const transports: Transport[] = [createSqliteTransport({ path, leaseMs: 300 }), createSqliteTransport({ path, leaseMs: 300 })];
    try {
      const endpoint = uniqueName('slow');
      const type = uniqueName('Slow');
      const deliveries: Delivery[] = [];
      for (const transport of transports) {
        await transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 1 }, async (delivery) => {
          deliveries.push(delivery);
          await sleep(1200); // four leases long
          await delivery.ack();
        });
      }
      await transports[0]?.publish(testMessage(type, new Uint8Array([123, 125])));
      await sleep(1500);
      expect(deliveries.map((d) => d.attempt)).toEqual([1]);
      expect((await transports[0]?.queues())?.find((q) => q.endpoint === endpoint)?.depth).toBe(0);
    } finally {
      await Promise.all(transports.map((t) => t.close()));
    }
  });
});
