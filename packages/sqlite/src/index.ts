/**
 * `@mailroom/sqlite`: the embedded default transport (a SQLite broker file shared by the processes of
 * one machine) and the SQLite outbox/inbox stores.
 */
export { BROKER_SCHEMA_VERSION, migrateBroker } from './broker-schema.js';
export { createSqliteTransport, type SqliteTransportOptions } from './sqlite-transport.js';
export { createTransportFromUrl } from './url.js';
