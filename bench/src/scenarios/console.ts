import { join } from 'node:path';
import { startConsole } from '@mailroom/console';
import type { Transport } from '@mailroom/core';
import { createPostgresTransport } from '@mailroom/postgres';
import { createSqliteTransport } from '@mailroom/sqlite';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { chromium } from 'playwright-core';
import { createBenchDatabase, dropBenchDatabase } from '../contenders/postgres-server.js';
import { Recorder } from '../recorder.js';
import type { Scenario } from '../scenario.js';
import { significant } from '../stats.js';
import { tempDir } from '../temp-dir.js';
import { uniqueName } from '../unique-name.js';
import { packageVersions } from '../versions.js';

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'bench-console-token-0123456789';

const KINDS = [
  {
    endpoint: 'billing',
    type: 'shop.OrderPlaced',
    reason: 'MAILROOM_ERR_HANDLER_FAILED',
    message: (i: number) => `payment provider rejected order ${i}`,
    stack: 'Error\n    at charge (/srv/billing/src/charge.ts:10:5)',
  },
  {
    endpoint: 'shipping',
    type: 'shop.ShipOrder',
    reason: 'MAILROOM_ERR_HANDLER_UNRECOVERABLE',
    message: (i: number) => `no shipping address for order ${i}`,
    stack: 'Error\n    at ship (/srv/shipping/src/ship.ts:20:5)',
  },
  {
    endpoint: 'inventory',
    type: 'shop.Reserve',
    reason: 'MAILROOM_ERR_CONTRACT_VALIDATION',
    message: (i: number) => `shop.Reserve v1 is invalid: qty: expected number, got "${i}"`,
    stack: null,
  },
] as const;

/** The id of the `i`th seeded dead letter's message. */
const messageIdOf = (i: number) => `01900000-0000-7000-8000-${String(i).padStart(12, '0')}`;

/** Writes `count` dead letters of 3 kinds straight into the broker file's dead-letter table, as the transport stores them. */
function seedSqlite(path: string, count: number): void {
  const db = new BetterSqlite3(path);
  const insert = db.prepare(
    'INSERT INTO mailroom_dead_letters (endpoint, message_id, type, headers, body, reason, error_message, error_stack, attempts, first_failure_at, last_failure_at, dead_lettered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const start = Date.now() - count * 10;
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const kind = KINDS[i % KINDS.length] as (typeof KINDS)[number];
      const id = messageIdOf(i);
      const headers = {
        'ce-id': id,
        'ce-type': kind.type,
        'ce-source': 'urn:bench',
        'ce-specversion': '1.0',
        'content-type': 'application/json',
        'ce-dataversion': '1',
      };
      const at = start + i * 10;
      insert.run(
        kind.endpoint,
        id,
        kind.type,
        JSON.stringify(headers),
        Buffer.from(JSON.stringify({ orderId: i, qty: i % 7 })),
        kind.reason,
        kind.message(i),
        kind.stack,
        3,
        at,
        at,
        at,
      );
    }
  })();
  db.close();
}

/** The same dead letters written into the PostgreSQL broker's dead-letter table, in batches of 5,000 rows. */
async function seedPostgres(connectionString: string, count: number): Promise<void> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const start = Date.now() - count * 10;
    for (let from = 0; from < count; from += 5000) {
      const rows: unknown[] = [];
      const values: string[] = [];
      for (let i = from; i < Math.min(count, from + 5000); i++) {
        const kind = KINDS[i % KINDS.length] as (typeof KINDS)[number];
        const id = messageIdOf(i);
        const headers = {
          'ce-id': id,
          'ce-type': kind.type,
          'ce-source': 'urn:bench',
          'ce-specversion': '1.0',
          'content-type': 'application/json',
          'ce-dataversion': '1',
        };
        const at = new Date(start + i * 10);
        const n = rows.length;
        values.push(`($${n + 1}, $${n + 2}, $${n + 3}, $${n + 4}, $${n + 5}, $${n + 6}, $${n + 7}, $${n + 8}, 3, $${n + 9}, $${n + 9}, $${n + 9})`);
        rows.push(
          kind.endpoint,
          id,
          kind.type,
          JSON.stringify(headers),
          Buffer.from(JSON.stringify({ orderId: i, qty: i % 7 })),
          kind.reason,
          kind.message(i),
          kind.stack,
          at,
        );
      }
      await client.query(
        `INSERT INTO mailroom_dead_letters (endpoint, message_id, type, headers, body, reason, error_message, error_stack, attempts, first_failure_at, last_failure_at, dead_lettered_at) VALUES ${values.join(', ')}`,
        rows,
      );
    }
  } finally {
    await client.end();
  }
}

/** A broker the scenario seeds and points the console at. */
interface Backend {
  readonly name: string;
  /** Opens the transport (creating its tables) and writes `count` dead letters into them. */
  open(count: number): Promise<Transport>;
  /** Deletes what `open` made, after the transport is closed. */
  remove(): Promise<void>;
}

function sqliteBackend(dir: string): Backend {
  return {
    name: 'SQLite',
    async open(count) {
      const path = join(dir, 'broker.db');
      const transport = createSqliteTransport({ path });
      await transport.queues(); // creates the broker schema
      seedSqlite(path, count);
      return transport;
    },
    async remove() {},
  };
}

function postgresBackend(): Backend {
  const database = uniqueName('bench_console').replace(/-/g, '_');
  return {
    name: 'PostgreSQL',
    async open(count) {
      const connectionString = await createBenchDatabase(database);
      const transport = await createPostgresTransport({ connectionString });
      await seedPostgres(connectionString, count);
      return transport;
    },
    remove: () => dropBenchDatabase(database),
  };
}

/** The console's first pages in Chromium, over a SQLite and a PostgreSQL broker holding 100,000 dead letters each. */
export const consoleScenario: Scenario = {
  name: 'console',
  title: 'Mailroom console: first page in the browser with 100,000 dead letters (SQLite, PostgreSQL)',
  description:
    'A broker holding 100,000 dead letters of 3 kinds (written straight into its dead-letter table: the SQLite file, then a PostgreSQL database of its own), the console on it, Chromium (headless) logged in. ' +
    '"groups, from the snapshot": navigation to the failures view until its 3 group rows are drawn, the groups served from the console\'s snapshot (grouped at start; when older than 2 s it is served at once and the console groups again in the background a second later, as on every visit after the first). ' +
    '"groups, grouped afresh": the same with the snapshot forgotten first (as after an action, or a click on Refresh), so the page waits while the console reads and groups every dead letter. ' +
    '"letters of a group": a click on a group until its first page of letters (newest first, 20) is drawn. Target: under 300 ms.',
  async run(context) {
    const recorder = new Recorder();
    const dir = tempDir('mailroom-bench-console');
    const count = context.size(100_000, 1000);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    try {
      for (const backend of [sqliteBackend(dir.path), postgresBackend()]) {
        context.log(`${backend.name}: seeding ${count} dead letters`);
        const transport = await backend.open(count);
        const running = await startConsole({ transport, token: TOKEN, dataDir: join(dir.path, `console-${backend.name}`), port: 0 });
        const group = `first page, ${backend.name}`;
        try {
          const page = await (await browser.newContext({ viewport: { width: 1360, height: 860 } })).newPage();
          await page.goto(running.loginUrl);
          await page.locator('[data-testid=group-row]').nth(2).waitFor({ timeout: 60_000 });
          const measure = async (label: string, before: () => Promise<unknown>) => {
            for (let round = 0; round < context.warmup + context.rounds; round++) {
              await page.goto('about:blank');
              await before();
              const started = performance.now();
              await page.goto(`${running.url}/#failures`);
              await page.locator('[data-testid=group-row]').nth(2).waitFor({ timeout: 60_000 });
              const groupsMs = performance.now() - started;
              const clicked = performance.now();
              await page.locator('[data-testid=group-row] button.link').first().click();
              await page.locator('[data-testid=letter-row]').first().waitFor({ timeout: 60_000 });
              const lettersMs = performance.now() - clicked;
              const measured = round >= context.warmup;
              context.log(`${backend.name}, ${label}: groups ${Math.round(groupsMs)} ms, letters ${Math.round(lettersMs)} ms${measured ? '' : ' (warm-up)'}`);
              if (measured) {
                recorder.add(group, `groups, ${label}`, 'time', 'ms', 'lower', significant(groupsMs));
                if (label === 'from the snapshot') recorder.add(group, 'letters of a group', 'time', 'ms', 'lower', significant(lettersMs));
              }
            }
          };
          // A visit: the snapshot as it is (young or old; an old one is regrouped in the background, as on every visit).
          await measure('from the snapshot', () => running.context.groups.get({}));
          await measure('grouped afresh', async () => running.context.groups.invalidate());
        } finally {
          await running.close();
          await transport.close();
          await backend.remove();
        }
      }
    } finally {
      await browser.close();
      dir.remove();
    }
    return {
      versions: packageVersions(['@mailroom/console', '@mailroom/sqlite', '@mailroom/postgres', 'better-sqlite3', 'pg', 'playwright-core', 'preact']),
      settings: { deadLetters: count, kinds: KINDS.length, browser: 'Chromium headless' },
      recorder,
      notes: [
        `GroupsCache serves a snapshot younger than 2 s as it is and an older one at once, regrouping in the background 1 s later (stale-while-revalidate; the page says when it was grouped and reads again when the new one is ready); the rounds follow each other within a second, so a visit's letters page often overlaps the regrouping the previous visit started; "grouped afresh" reads all ${count} dead letters page by page (1000 a page).`,
      ],
    };
  },
};
