import type { MessageDatabase } from '@mailroom/core';
import type { PgPool, PgPoolClient } from './pg-client.js';
import { withTransaction } from './pg-transaction.js';
import { migratePostgres } from './postgres-migrations.js';
import type { PostgresTables } from './postgres-tables.js';

/**
 * The service's PostgreSQL database as the stores use it: idempotent migrations of the Mailroom
 * tables and transactions on a client of your pool (`BEGIN` ... `COMMIT`, rolled back when the
 * work rejects). `C` is your pool's client type.
 */
export function createPostgresDatabase<C extends PgPoolClient = PgPoolClient>(pool: PgPool, tables: PostgresTables): MessageDatabase<C> {
  return {
    name: 'postgres',
    migrate: () => migratePostgres(pool, tables),
    transaction: <T>(work: (tx: C) => Promise<T>) => withTransaction<C, T>(pool, work),
  };
}
