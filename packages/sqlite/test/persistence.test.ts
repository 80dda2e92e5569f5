import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describePersistence } from '@mailroom/conformance';
import { createEndpoint, createMemoryTransport, type Endpoint, ErrorCodes, isMailroomError, type Transport } from '@mailroom/core';
import type Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqlitePersistence } from '../src/index.js';
import { createSqlitePersistenceFixture, openDatabase } from './persistence-fixture.js';

const dirs: string[] = [];
const endpoints: Endpoint<any>[] = [];
const transports: Transport[] = [];
const connections: Database.Database[] = [];

afterEach(async () => {
  await Promise.all(endpoints.splice(0).map((endpoint) => endpoint.stop({ timeoutMs: 1000 })));
  await Promise.all(transports.splice(0).map((transport) => transport.close()));
  for (const connection of connections.splice(0)) connection.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-sqlite-outbox-'));
  dirs.push(dir);
  return dir;
}

function open(path: string): Database.Database {
  const db = openDatabase(path);
  connections.push(db);
  return db;
}

const message = (n: number) => ({
  route: { kind: 'event' as const, type: 'test.Leased' },
  headers: { 'ce-id': `m-${n}` },
  body: new TextEncoder().encode(JSON.stringify({ n })),
});

// Relay processes hold 500 ms leases. Fewer kills than PostgreSQL's 100 (one round of 3 relays): tsx starts each child in about 0.6 s
// (PostgreSQL's children are bundled), and the file should take no longer than its one-kill test did.
describePersistence({ name: 'sqlite', create: () => createSqlitePersistenceFixture(500), expiredCompleteRejects: false, kills: 3 });

describe('SQLite persistence', () => {
  it('fails fast on bad options and misuse, with typed errors', async () => {
    const db = open(join(tempDir(), 'service.db'));
    expect(() => createSqlitePersistence({} as never)).toThrow(expect.objectContaining({ code: ErrorCodes.PERSISTENCE_CONFIG }));
    expect(() => createSqlitePersistence({ database: db, tablePrefix: 'Bad-Prefix' })).toThrow(/tablePrefix/);
    expect(() => createSqlitePersistence({ database: db, relay: { batchSize: 0 } })).toThrow(/batchSize/);
    const persistence = createSqlitePersistence({ database: db, relay: false });
    await persistence.migrate();
    await persistence.migrate();
    await expect(persistence.addToOutbox(db, [message(1)])).rejects.toSatisfy((e) => isMailroomError(e, ErrorCodes.PERSISTENCE_NO_TRANSACTION));
    await expect(persistence.transaction(() => persistence.outbox.counts())).rejects.toSatisfy((e) => isMailroomError(e, ErrorCodes.PERSISTENCE_STATE));
    const other = open(join(tempDir(), 'other.db'));
    await expect(persistence.transaction(() => persistence.addToOutbox(other, [message(1)]))).rejects.toSatisfy((e) =>
      isMailroomError(e, ErrorCodes.PERSISTENCE_CONFIG),
    );
    db.prepare('INSERT INTO mailroom_migrations (version, applied_at) VALUES (99, 0)').run();
    await expect(persistence.migrate()).rejects.toSatisfy((e) => isMailroomError(e, ErrorCodes.PERSISTENCE_SCHEMA));
    const transport = createMemoryTransport();
    transports.push(transport);
    const shared = createSqlitePersistence({ database: open(join(tempDir(), 'shared.db')) });
    const a = createEndpoint({ name: 'a', transport, persistence: shared });
    endpoints.push(a);
    await a.start();
    const b = createEndpoint({ name: 'b', transport, persistence: shared });
    await expect(b.start()).rejects.toSatisfy((e) => isMailroomError(e, ErrorCodes.PERSISTENCE_STATE));
  });
});
