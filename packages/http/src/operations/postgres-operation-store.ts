import { MailroomError } from '@mailroom/core';
import { assertSqlIdentifier } from '@mailroom/core/internal';
import { HttpErrorCodes } from '../errors.js';
import type { OperationStore } from './operation-store.js';
import { type SqlDialect, SqlOperationStore, type SqlProgram, type SqlStep } from './sql-operation-store.js';

/** The part of a pg client the store uses to run a query. */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>;
}

/** The part of a client checked out of a pg `Pool` the store uses (pg's `PoolClient` fits). */
export interface PgPoolClientLike extends PgQueryable {
  release(error?: Error | boolean): void;
  /** pg emits `error` on a checked-out client whose connection dies; the store listens while it holds the client. */
  on?(event: 'error', listener: (error: Error) => void): unknown;
  removeListener?(event: 'error', listener: (error: Error) => void): unknown;
}

/** The part of a pg `Pool` the store uses: a `new pg.Pool(...)` fits as it is. */
export interface PgPoolLike extends PgQueryable {
  connect(): Promise<PgPoolClientLike>;
}

/** Absorbs the `error` event of a held client (its connection died): the query in progress rejects instead. */
const ignoreClientError = () => undefined;

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

async function drive<T>(client: PgQueryable, program: SqlProgram<T>): Promise<T> {
  let next = program.next();
  while (!next.done) {
    const step: SqlStep = next.value;
    const result = await client.query(placeholders(step.sql), [...step.params]);
    next = program.next(step.op === 'all' ? result.rows : (result.rowCount ?? 0));
  }
  return next.value;
}

function postgresDialect(pool: PgPoolLike, schema: string | undefined, prefix: string): SqlDialect {
  const scope = `${schema ?? ''}.${prefix}`;
  const inTransaction = async <T>(lockKey: string, work: (client: PgQueryable) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    // Without a listener, pg's `error` event on a checked-out client is an uncaught exception.
    client.on?.('error', ignoreClientError);
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      // A transaction-scoped advisory lock: writers of one operation are serialized across every process.
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [lockKey]);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        broken = rollbackError;
      });
      throw error;
    } finally {
      client.removeListener?.('error', ignoreClientError);
      client.release(broken ?? false);
    }
  };
  return {
    name: 'postgres',
    read: (program) => drive(pool, program()),
    transaction: (lockKey, program) => inTransaction(`mailroom-operation:${scope}:${lockKey}`, (client) => drive(client, program())),
    migrate: (statements) =>
      inTransaction(`mailroom-operations-migrate:${scope}`, async (client) => {
        if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
        for (const statement of statements) await client.query(statement);
      }),
    table: (name) => (schema === undefined ? `"${name}"` : `"${schema}"."${name}"`),
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
  const schema =
    options.schema === undefined ? undefined : assertSqlIdentifier(options.schema, 'operation store schema', false, HttpErrorCodes.OPERATION_CONFIG);
  const prefix = assertSqlIdentifier(options.tablePrefix ?? 'mailroom_', 'operation store tablePrefix', false, HttpErrorCodes.OPERATION_CONFIG);
  return new SqlOperationStore(postgresDialect(pool, schema, prefix), prefix);
}
