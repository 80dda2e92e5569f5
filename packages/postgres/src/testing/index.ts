/** `@mailroom/postgres/testing`: what the conformance suite and benchmarks need to reach the PostgreSQL transport's tables directly. */
export { type PostgresRawAccessOptions, type PostgresRawMessage, postgresRawAccess } from './postgres-raw-access.js';
