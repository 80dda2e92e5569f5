import { MailroomError } from '@mailroom/core';
import { HttpErrorCodes } from '../errors.js';
import type { OperationStore } from './operation-store.js';
import { checkIdentifier, type SqlDialect, type SqlExecutor, SqlOperationStore } from './sql-operation-store.js';

/** The part of a pg client the store uses to run a query. */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>;
}

/** The part of a pg `Pool` the store uses: a `new pg.Pool(...)` fits as it is. */
export interface PgPoolLike extends PgQueryable {
  connect(): Promise<PgQueryable & { release(error?: Error | boolean): void }>;
}

/** Options of {@link createPostgresOperationStore}. */
export interface PostgresOperationStoreOptions {
  /** Your pg pool; the store borrows one client per transaction and never ends the pool. */
  pool: PgPoolLike;
  /** The schema of the tables; created by `migrate()` when missing. Default: the connection's search path. */
  schema?: string;
  /** Prefix of the store's table names. Default `mailroom_`. */
  tablePrefix?: string;
}

function placeholders(sql: string): string {
  let index = 0;
  return sql.replace(/\?/g, () => `$${++index}`);
}

function executorOf(client: PgQueryable): SqlExecutor {
  return {
    all: async <R>(sql: string, params: readonly unknown[] = []) => (await client.query(placeholders(sql), [...params])).rows as R[],
    run: async (sql: string, params: readonly unknown[] = []) => (await client.query(placeholders(sql), [...params])).rowCount ?? 0,
  };
}

function postgresDialect(pool: PgPoolLike, schema: string | undefined, prefix: string): SqlDialect {
  const scope = `${schema ?? ''}.${prefix}`;
  const transaction = async <T>(work: (sql: SqlExecutor) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(executorOf(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        broken = rollbackError;
      });
      throw error;
    } finally {
      client.release(broken ?? false);
    }
  };
  return {
    name: 'postgres',
    ...executorOf(pool),
    transaction,
    // A transaction-scoped advisory lock per operation: creating, appending and expiring one
    // operation are serialized across every process sharing the database.
    lock: async (sql, id) => {
      await sql.run('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', [`mailroom-operation:${scope}:${id}`]);
    },
    async migrate(statements: readonly string[]) {
      await transaction(async (sql) => {
        await sql.run('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', [`mailroom-operations-migrate:${scope}`]);
        if (schema !== undefined) await sql.run(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
        for (const statement of statements) await sql.run(statement);
      });
    },
    table: (name: string) => (schema === undefined ? `"${name}"` : `"${schema}"."${name}"`),
  };
}

/**
 * An {@link OperationStore} in PostgreSQL over your pg pool. Call `migrate()` once (idempotent,
 * safe from several processes at once) before use; the tracker does it on start. Throws
 * `MAILROOM_ERR_OPERATION_CONFIG` for a missing pool or a malformed schema or table prefix.
 */
export function createPostgresOperationStore(options: PostgresOperationStoreOptions): OperationStore {
  const pool = options?.pool;
  if (!pool || typeof pool.query !== 'function' || typeof pool.connect !== 'function') {
    throw new MailroomError(HttpErrorCodes.OPERATION_CONFIG, 'createPostgresOperationStore needs pool: a pg Pool (new pg.Pool({ connectionString }))');
  }
  const schema = options.schema === undefined ? undefined : checkIdentifier(options.schema, 'schema');
  const prefix = checkIdentifier(options.tablePrefix ?? 'mailroom_', 'tablePrefix');
  return new SqlOperationStore(postgresDialect(pool, schema, prefix), prefix);
}
