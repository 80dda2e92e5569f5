/**
 * `@mailroom/postgres`: the transactional outbox and idempotent inbox of a service in its own
 * PostgreSQL database, on the user's own pg `Pool`, and a transport whose broker is a set of
 * PostgreSQL tables (`postgres://` in `connectTransport`).
 */
export { BROKER_SCHEMA_VERSION, migrateBroker } from './broker-schema.js';
export { type PostgresBrokerTables, postgresBrokerTables } from './broker-tables.js';
export { PostgresDirectOutbox } from './direct-outbox.js';
export { PostgresErrorCodes } from './errors.js';
export { pgAccessError } from './pg-access-error.js';
export type {
  PgListeningClient,
  PgNamedQuery,
  PgNotification,
  PgPool,
  PgPoolClient,
  PgQueryable,
  PgQueryResult,
  PgTransportPool,
} from './pg-client.js';
export { withTransaction } from './pg-transaction.js';
export { createPostgresDatabase } from './postgres-database.js';
export { PostgresInboxStore } from './postgres-inbox-store.js';
export { type MigrationPlan, migratePostgres, POSTGRES_SCHEMA_VERSION, runMigrations } from './postgres-migrations.js';
export { createPostgresOperationStore, type PostgresOperationStoreOptions } from './postgres-operation-store.js';
export { PostgresOutboxStore, type PostgresOutboxStoreOptions } from './postgres-outbox-store.js';
export { createPostgresPersistence, type PostgresPersistenceOptions } from './postgres-persistence.js';
export { PostgresSagaStore } from './postgres-saga-store.js';
export { type PostgresTableOptions, type PostgresTables, postgresTables } from './postgres-tables.js';
export {
  createPostgresTransport,
  POSTGRES_DELAY_PRECISION_MS,
  POSTGRES_MAX_SCHEDULE_DELAY_MS,
  type PostgresTransport,
  type PostgresTransportOptions,
} from './postgres-transport.js';
export { createTransportFromUrl, parsePostgresUrl } from './transport-url.js';
