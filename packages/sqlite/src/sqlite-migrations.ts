import { ErrorCodes, errorMessage, isMailroomError, MailroomError } from '@mailroom/core';
import type { Database } from 'better-sqlite3';
import { runImmediate } from './run-immediate.js';
import type { SqliteTables } from './sqlite-tables.js';

function migrations(t: SqliteTables): string[] {
  return [
    // 1: the outbox (AUTOINCREMENT: ids are never reused, so a stale claim can never touch a newer row) and the inbox.
    `CREATE TABLE IF NOT EXISTS ${t.outbox} (
       id INTEGER PRIMARY KEY AUTOINCREMENT,
       route_kind TEXT NOT NULL CHECK (route_kind IN ('event', 'command')),
       type TEXT NOT NULL,
       destination TEXT,
       headers TEXT NOT NULL,
       body BLOB NOT NULL,
       ordering_key TEXT,
       attempts INTEGER NOT NULL DEFAULT 0,
       last_error TEXT,
       available_at INTEGER NOT NULL,
       created_at INTEGER NOT NULL,
       claimed_by TEXT,
       claimed_until INTEGER,
       sent_at INTEGER
     );
     CREATE INDEX IF NOT EXISTS ${t.prefix}outbox_unsent ON ${t.outbox} (id) WHERE sent_at IS NULL;
     CREATE INDEX IF NOT EXISTS ${t.prefix}outbox_key ON ${t.outbox} (ordering_key, id) WHERE sent_at IS NULL AND ordering_key IS NOT NULL;
     CREATE INDEX IF NOT EXISTS ${t.prefix}outbox_sent ON ${t.outbox} (sent_at) WHERE sent_at IS NOT NULL;
     CREATE TABLE IF NOT EXISTS ${t.inbox} (
       endpoint TEXT NOT NULL,
       message_id TEXT NOT NULL,
       processed_at INTEGER NOT NULL,
       PRIMARY KEY (endpoint, message_id)
     ) WITHOUT ROWID;
     CREATE INDEX IF NOT EXISTS ${t.prefix}inbox_processed ON ${t.inbox} (processed_at);`,
    // 2: scheduled messages: when the transport is to deliver the row's message (epoch ms; NULL = now).
    `ALTER TABLE ${t.outbox} ADD COLUMN deliver_at INTEGER;`,
    // 3: saga instances, one row per (saga, correlation key), with a version for optimistic concurrency.
    `CREATE TABLE IF NOT EXISTS ${t.sagas} (
       saga TEXT NOT NULL,
       saga_key TEXT NOT NULL,
       instance_id TEXT NOT NULL,
       version INTEGER NOT NULL,
       data TEXT NOT NULL,
       created_at INTEGER NOT NULL,
       updated_at INTEGER NOT NULL,
       completed_at INTEGER,
       PRIMARY KEY (saga, saga_key)
     ) WITHOUT ROWID;`,
  ];
}

/** The schema version of the Mailroom tables (outbox, inbox, sagas) this package writes: its number of migration steps. */
export const SQLITE_SCHEMA_VERSION = 3;

/**
 * Creates or upgrades the Mailroom tables in one `BEGIN IMMEDIATE` transaction (so processes
 * starting at once take turns); a no-op when up to date. The caller holds the connection lock.
 * Throws `MAILROOM_ERR_PERSISTENCE_SCHEMA` when the file is newer than this package or a step fails.
 */
export function migrateSqlite(db: Database, tables: SqliteTables): void {
  const steps = migrations(tables);
  try {
    runImmediate(db, () => {
      db.exec(`CREATE TABLE IF NOT EXISTS ${tables.migrations} (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`);
      const current = (db.prepare(`SELECT max(version) AS version FROM ${tables.migrations}`).get() as { version: number | null }).version ?? 0;
      if (current > steps.length) {
        throw new MailroomError(
          ErrorCodes.PERSISTENCE_SCHEMA,
          `The Mailroom tables in ${db.name} are at schema version ${current}, newer than this @mailroom/sqlite knows (${steps.length}); upgrade the package`,
        );
      }
      for (let version = current + 1; version <= steps.length; version++) {
        db.exec(steps[version - 1] as string);
        db.prepare(`INSERT INTO ${tables.migrations} (version, applied_at) VALUES (?, ?)`).run(version, Date.now());
      }
    });
  } catch (error) {
    if (isMailroomError(error)) throw error;
    throw new MailroomError(ErrorCodes.PERSISTENCE_SCHEMA, `Could not create the Mailroom tables in ${db.name}: ${errorMessage(error)}`, { cause: error });
  }
}
