import { ErrorCodes, MailroomError, type OperationStore } from '@mailroom/core';
import { assertSqlIdentifier, type SqlDialect, SqlOperationStore, type SqlProgram, type SqlStep } from '@mailroom/core/internal';
import type { PgPool, PgQueryable } from './pg-client.js';
import { withTransaction } from './pg-transaction.js';

/** Options of {@link createPostgresOperationStore}. */
export interface PostgresOperationStoreOptions {
  /** Your pg pool; the store borrows one client per transaction and never ends the pool. */
  pool: PgPool;
  /** The schema of the tables; created by `migrate()` when missing. Default: the connection's search path. */
  schema?: string;
  /** Prefix of the store's table names. Default `mailroom_`. */
  tablePrefix?: string;
}

/** Converts the `?` placeholders of the store's statements to pg's `$n`, once per statement text. */
function placeholderCache(): (sql: string) => string {
  // The store's statements are a fixed set per table prefix, so the cache stays small.
  const converted = new Map<string, string>();
  return (sql) => {
    let text = converted.get(sql);
    if (text === undefined) {
      let index = 0;
      text = sql.replace(/\?/g, () => `$${++index}`);
      converted.set(sql, text);
    }
    return text;
  };
}

async function drive<T>(client: PgQueryable, placeholders: (sql: string) => string, program: SqlProgram<T>): Promise<T> {
  let next = program.next();
  while (!next.done) {
    const step: SqlStep = next.value;
    // pg only reads the values (it serializes them into a new message), so the readonly array goes as it is.
    const result = await client.query(placeholders(step.sql), step.params as unknown[]);
    next = program.next(step.op === 'all' ? result.rows : (result.rowCount ?? 0));
  }
  return next.value;
}

function postgresDialect(pool: PgPool, schema: string | undefined, prefix: string): SqlDialect {
  const scope = `${schema ?? ''}.${prefix}`;
  const placeholders = placeholderCache();
  // A transaction-scoped advisory lock first: writers of one operation are serialized across every process.
  const locked = <T>(lockKey: string, work: (client: PgQueryable) => Promise<T>): Promise<T> =>
    withTransaction(pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [lockKey]);
      return work(client);
    });
  return {
    name: 'postgres',
    read: (program) => drive(pool, placeholders, program()),
    transaction: (lockKey, program) => locked(`mailroom-operation:${scope}:${lockKey}`, (client) => drive(client, placeholders, program())),
    migrate: (statements) =>
      locked(`mailroom-operations-migrate:${scope}`, async (client) => {
        if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
        for (const statement of statements) await client.query(statement);
      }),
    table: (name) => (schema === undefined ? `"${name}"` : `"${schema}"."${name}"`),
  };
}

/**
 * An {@link OperationStore} in PostgreSQL over your pg pool, next to the PostgreSQL outbox, inbox
 * and saga stores. Every write runs in one transaction (`withTransaction`) that first takes the
 * operation's transaction-scoped advisory lock, so writers of one operation are serialized across
 * processes; a client whose connection dies is destroyed, never returned to the pool. Call
 * `migrate()` once (idempotent, safe from several processes at once) before use; `@mailroom/http`'s
 * tracker does it on start. Throws `MAILROOM_ERR_OPERATION_CONFIG` for a missing pool or a
 * malformed schema or table prefix.
 */
export function createPostgresOperationStore(options: PostgresOperationStoreOptions): OperationStore {
  const pool = options?.pool;
  if (!pool || typeof pool.query !== 'function' || typeof pool.connect !== 'function') {
    throw new MailroomError(ErrorCodes.OPERATION_CONFIG, 'createPostgresOperationStore needs pool: a pg Pool (new pg.Pool({ connectionString }))');
  }
  const schema = options.schema === undefined ? undefined : assertSqlIdentifier(options.schema, 'operation store schema', false, ErrorCodes.OPERATION_CONFIG);
  const prefix = assertSqlIdentifier(options.tablePrefix ?? 'mailroom_', 'operation store tablePrefix', false, ErrorCodes.OPERATION_CONFIG);
  return new SqlOperationStore(postgresDialect(pool, schema, prefix), prefix);
}
