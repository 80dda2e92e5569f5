import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger, StorePersistence } from '@mailroom/core';
import { createPostgresPersistence } from '@mailroom/postgres';
import { connectionLock, createSqlitePersistence } from '@mailroom/sqlite';
import BetterSqlite3, { type Database, type Statement } from 'better-sqlite3';
import pg from 'pg';
import type { ShopConfig } from '../shop-config.js';
import { ensurePgDatabase, pgDatabaseName, pgDatabaseUrl } from './pg-databases.js';

/** Statements on a service's database, in the same SQL for SQLite and PostgreSQL (`?` placeholders). */
export interface Sql {
  /** Runs a query and resolves with its rows. */
  all<R>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Runs a statement and resolves with the number of rows it changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
}

/**
 * One service's own database: a SQLite file in the data directory, or a PostgreSQL database of its
 * own on the configured server (created when missing). Holds the service's business tables and its
 * Mailroom outbox and inbox; no other service opens it.
 */
export interface ServiceDatabase {
  /** `sqlite` or `postgres`. */
  readonly kind: 'sqlite' | 'postgres';
  /** The file or database name, for logs. */
  readonly location: string;
  /** The underlying connection, for stores that need their own (the gateway's operation store). */
  readonly connection: { readonly kind: 'sqlite'; readonly file: string } | { readonly kind: 'postgres'; readonly pool: pg.Pool };
  /** The endpoint's persistence: inbox, outbox, relay, handler transactions. */
  readonly persistence: StorePersistence<unknown>;
  /** Statements inside a transaction: pass a handler's `ctx.tx` or a `transaction` scope's `tx`. */
  sql(tx: unknown): Sql;
  /** Reads outside any transaction (they see committed data only). */
  readonly read: Sql;
  /** Creates the service's business tables (idempotent statements, run in one transaction). */
  migrate(statements: readonly string[]): Promise<void>;
  /** Closes the connection or pool; call after the endpoint stopped. */
  close(): Promise<void>;
}

const statements = new WeakMap<Database, Map<string, Statement>>();

/** The prepared statement of `sql` on `db`, prepared once. */
function prepared(db: Database, sql: string): Statement {
  let cache = statements.get(db);
  if (!cache) statements.set(db, (cache = new Map()));
  let statement = cache.get(sql);
  if (!statement) cache.set(sql, (statement = db.prepare(sql)));
  return statement;
}

function sqliteSql(db: Database): Sql {
  return {
    all: async <R>(sql: string, params: readonly unknown[] = []) => prepared(db, sql).all(...params) as R[],
    run: async (sql: string, params: readonly unknown[] = []) => prepared(db, sql).run(...params).changes,
  };
}

function openSqlite(config: ShopConfig, service: string): ServiceDatabase {
  mkdirSync(config.dataDir, { recursive: true });
  const location = join(config.dataDir, `${service}.db`);
  const db = new BetterSqlite3(location, { timeout: 10_000 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const persistence = createSqlitePersistence({ database: db }) as StorePersistence<unknown>;
  const inTx = sqliteSql(db);
  const lock = connectionLock(db);
  return {
    kind: 'sqlite',
    location,
    connection: { kind: 'sqlite', file: location },
    persistence,
    sql: (tx) => sqliteSql(tx as Database),
    read: {
      all: (sql, params) => lock.run(() => inTx.all(sql, params)),
      run: (sql, params) => lock.run(() => inTx.run(sql, params)),
    },
    migrate: (statements) =>
      persistence.transaction(async (tx) => {
        for (const statement of statements) (tx as Database).exec(statement);
      }),
    close: async () => {
      await lock.run(() => db.close());
    },
  };
}

/** `?` placeholders to PostgreSQL's `$1, $2...` (the shop's SQL never has `?` inside literals). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>;
}

function pgSql(client: Queryable): Sql {
  return {
    all: async <R>(sql: string, params: readonly unknown[] = []) => (await client.query(numbered(sql), [...params])).rows as R[],
    run: async (sql: string, params: readonly unknown[] = []) => (await client.query(numbered(sql), [...params])).rowCount ?? 0,
  };
}

async function openPostgres(config: ShopConfig, service: string, log: Logger): Promise<ServiceDatabase> {
  const serverUrl = config.pgUrl as string;
  const name = pgDatabaseName(config, service);
  await ensurePgDatabase(serverUrl, name);
  const pool = new pg.Pool({ connectionString: pgDatabaseUrl(serverUrl, name), max: 6 });
  pool.on('error', (error) => log.warn({ err: error }, 'idle PostgreSQL connection failed; the pool replaces it'));
  const persistence = createPostgresPersistence({ pool }) as StorePersistence<unknown>;
  return {
    kind: 'postgres',
    location: `PostgreSQL database ${name}`,
    connection: { kind: 'postgres', pool },
    persistence,
    sql: (tx) => pgSql(tx as Queryable),
    read: pgSql(pool),
    migrate: (statements) =>
      persistence.transaction(async (tx) => {
        // Several worker processes may start at once: one creates the tables, the others wait for it.
        await (tx as Queryable).query('SELECT pg_advisory_xact_lock(7262)');
        for (const statement of statements) await (tx as Queryable).query(statement);
      }),
    close: () => pool.end(),
  };
}

/** Opens the database of `service` as the shop is configured: PostgreSQL when `SHOP_PG_URL` is set, else a SQLite file. */
export function openServiceDatabase(config: ShopConfig, service: string, log: Logger): Promise<ServiceDatabase> {
  return config.pgUrl === undefined ? Promise.resolve(openSqlite(config, service)) : openPostgres(config, service, log);
}
