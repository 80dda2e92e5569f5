import { join } from 'node:path';
import { createEndpoint, createMemoryTransport, type Endpoint, type Transport } from '@mailroom/core';
import { createSqlitePersistence } from '@mailroom/sqlite';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { BenchEvent, benchMessage } from '../bench-message.js';
import { tempDir } from '../temp-dir.js';
import type { OutboxFixture } from './outbox-fixture.js';

const INSERT = 'INSERT INTO bench_orders (customer, total, created_at) VALUES (?, ?, ?)';

/** A service database file in a temporary directory (WAL, synchronous NORMAL), with the business table and Mailroom's tables. */
export async function sqliteOutbox(): Promise<OutboxFixture> {
  const dir = tempDir('mailroom-bench-outbox');
  const db: Database = new BetterSqlite3(join(dir.path, 'orders.db'), { timeout: 5000 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE bench_orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, total REAL NOT NULL, created_at INTEGER NOT NULL)');
  const insert = db.prepare(INSERT);
  const bare = db.transaction((seq: number) => insert.run(`customer-${seq}`, seq % 1000, Date.now()));
  const persistence = createSqlitePersistence({ database: db, relay: false });
  const endpoint: Endpoint<Database> = createEndpoint({ name: 'bench-orders', transport: createMemoryTransport(), persistence });
  await endpoint.start();
  const relaying: { endpoint: Endpoint<Database>; db: Database }[] = [];
  return {
    name: 'sqlite',
    outbox: persistence.outbox,
    async bareInsert(seq) {
      bare(seq);
    },
    async autocommitInsert(seq) {
      insert.run(`customer-${seq}`, seq % 1000, Date.now());
    },
    async insertWithOutbox(seq) {
      // `tx` is this very connection inside Mailroom's transaction, so the statement prepared once serves.
      await endpoint.transaction(async ({ publish }) => {
        insert.run(`customer-${seq}`, seq % 1000, Date.now());
        await publish(BenchEvent, benchMessage(seq));
      });
    },
    async prefillOutbox(count, perTransaction) {
      for (let start = 0; start < count; start += perTransaction) {
        await endpoint.transaction(async ({ publish }) => {
          for (let seq = start; seq < Math.min(count, start + perTransaction); seq++) await publish(BenchEvent, benchMessage(seq));
        });
      }
    },
    async clear() {
      db.exec('DELETE FROM bench_orders; DELETE FROM mailroom_outbox;');
    },
    relayingEndpoint(name: string, transport: Transport) {
      // A connection of its own, as the persistence docs ask when another one writes to the file.
      const own = new BetterSqlite3(join(dir.path, 'orders.db'), { timeout: 5000 });
      own.pragma('journal_mode = WAL');
      own.pragma('synchronous = NORMAL');
      const relayed: Endpoint<Database> = createEndpoint({ name, transport, persistence: createSqlitePersistence({ database: own, tablePrefix: 'latency_' }) });
      relaying.push({ endpoint: relayed, db: own });
      return relayed;
    },
    async version() {
      return db.prepare('SELECT sqlite_version()').pluck().get() as string;
    },
    async close() {
      for (const r of relaying) {
        await r.endpoint.stop();
        r.db.close();
      }
      await endpoint.stop();
      db.close();
      dir.remove();
    },
  };
}
