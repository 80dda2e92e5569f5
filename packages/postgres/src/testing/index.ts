/** `@mailroom/postgres/testing`: what the conformance suites and benchmarks need to reach a PostgreSQL database directly. */
export { postgresOperationStoreFixture } from './postgres-operation-store-fixture.js';
export { type PostgresRawAccessOptions, type PostgresRawMessage, postgresRawAccess } from './postgres-raw-access.js';
