import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeTransport } from '@mailroom/conformance';
import { createSqliteTransport } from '../src/index.js';
import { sqliteRawAccess } from '../src/testing/index.js';

const dir = mkdtempSync(join(tmpdir(), 'mailroom-sqlite-conformance-'));
const path = join(dir, 'broker.db');

describeTransport({
  name: 'sqlite',
  connect: async () => createSqliteTransport({ path, leaseMs: 2000 }),
  raw: sqliteRawAccess(path),
  // The child connects through the adapter module, as a transport of your own would (docs/adapters.md);
  // the other adapters' runs connect through connectTransport.
  childProcess: { url: `sqlite:${path}`, module: '@mailroom/sqlite', options: { leaseMs: 2000 } },
  stressRounds: 2,
  teardown: async () => rmSync(dir, { recursive: true, force: true }),
});
