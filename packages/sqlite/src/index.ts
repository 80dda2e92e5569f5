/**
 * `@mailroom/sqlite`: the embedded default transport (a SQLite broker file shared by the processes of
 * one machine) and the SQLite stores: outbox, inbox, saga and operation stores.
 */
export { BROKER_SCHEMA_VERSION, migrateBroker } from './broker-schema.js';
export { ConnectionLock, connectionLock } from './sqlite-connection-lock.js';
export { createSqliteDatabase } from './sqlite-database.js';
export { SqliteInboxStore } from './sqlite-inbox-store.js';
export { migrateSqlite, SQLITE_SCHEMA_VERSION } from './sqlite-migrations.js';
export { createSqliteOperationStore, type SqliteOperationStoreOptions } from './sqlite-operation-store.js';
export { SqliteOutboxStore, type SqliteOutboxStoreOptions } from './sqlite-outbox-store.js';
export { createSqlitePersistence, type SqlitePersistenceOptions } from './sqlite-persistence.js';
export { SqliteSagaStore } from './sqlite-saga-store.js';
export { type SqliteTables, sqliteTables } from './sqlite-tables.js';
export { createSqliteTransport, SQLITE_MAX_SCHEDULE_DELAY_MS, type SqliteTransportOptions } from './sqlite-transport.js';
export { createTransportFromUrl } from './url.js';
