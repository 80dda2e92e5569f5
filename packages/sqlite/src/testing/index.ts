/** `@mailroom/sqlite/testing`: what the conformance suites and benchmarks need to reach a SQLite database file directly. */
export { sqliteOperationStoreFixture } from './sqlite-operation-store-fixture.js';
export { sqliteRawAccess } from './sqlite-raw-access.js';
