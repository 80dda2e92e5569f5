/** `@mailroom/sqlite/testing`: what the conformance suite and benchmarks need to reach a SQLite broker file directly. */
export { sqliteRawAccess } from './sqlite-raw-access.js';
