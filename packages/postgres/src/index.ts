/**
 * `@mailroom/postgres`: the transactional outbox and idempotent inbox of a service in its own
 * PostgreSQL database, on the user's own pg `Pool`.
 */
export { PostgresErrorCodes } from './errors.js';
export { pgAccessError } from './pg-access-error.js';
export type { PgPool, PgPoolClient, PgQueryable, PgQueryResult } from './pg-client.js';
export { withTransaction } from './pg-transaction.js';
export { createPostgresDatabase } from './postgres-database.js';
export { PostgresInboxStore } from './postgres-inbox-store.js';
export { migratePostgres, POSTGRES_SCHEMA_VERSION } from './postgres-migrations.js';
export { PostgresOutboxStore, type PostgresOutboxStoreOptions } from './postgres-outbox-store.js';
export { createPostgresPersistence, type PostgresPersistenceOptions } from './postgres-persistence.js';
export { type PostgresTableOptions, type PostgresTables, postgresTables } from './postgres-tables.js';
