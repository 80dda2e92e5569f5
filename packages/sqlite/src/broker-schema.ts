import type { Database } from 'better-sqlite3';

/** The version of the broker tables this package writes; stored in `PRAGMA user_version`-independent table `mailroom_broker_meta`. */
export const BROKER_SCHEMA_VERSION = 1;

/**
 * Creates the broker tables in a SQLite file, idempotently. The file is the queue's storage, shared
 * by every process of every service on this machine: it is not a business database.
 *
 * - `mailroom_subscriptions`: which endpoint receives which event type (fan-out table).
 * - `mailroom_messages`: one row per message per receiving endpoint. `visible_at` is when it may be
 *   delivered next; a lease sets it into the future with a `lease_token`, so a crashed consumer's
 *   messages come back once the lease runs out.
 * - `mailroom_dead_letters`: every endpoint's dead letters, keyed by endpoint.
 * - `mailroom_consumers`: live consumers with a heartbeat, for topology and the UI.
 */
export function migrateBroker(db: Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS mailroom_broker_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS mailroom_queues (
      endpoint TEXT PRIMARY KEY,
      created_at INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS mailroom_subscriptions (
      type TEXT NOT NULL,
      endpoint TEXT NOT NULL,
      PRIMARY KEY (type, endpoint)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS mailroom_messages (
      seq INTEGER PRIMARY KEY,
      endpoint TEXT NOT NULL,
      headers TEXT NOT NULL,
      body BLOB NOT NULL,
      attempt INTEGER NOT NULL DEFAULT 0,
      visible_at INTEGER NOT NULL,
      lease_token TEXT,
      first_failure_at INTEGER,
      enqueued_at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS mailroom_messages_ready ON mailroom_messages (endpoint, visible_at, seq);
    CREATE TABLE IF NOT EXISTS mailroom_dead_letters (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      endpoint TEXT NOT NULL,
      message_id TEXT NOT NULL,
      type TEXT NOT NULL,
      headers TEXT NOT NULL,
      body BLOB NOT NULL,
      reason TEXT NOT NULL,
      error_message TEXT NOT NULL,
      error_stack TEXT,
      attempts INTEGER NOT NULL,
      first_failure_at INTEGER NOT NULL,
      last_failure_at INTEGER NOT NULL,
      dead_lettered_at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS mailroom_dead_letters_endpoint ON mailroom_dead_letters (endpoint, dead_lettered_at);
    CREATE TABLE IF NOT EXISTS mailroom_consumers (
      id TEXT PRIMARY KEY,
      endpoint TEXT NOT NULL,
      pid INTEGER NOT NULL,
      heartbeat_at INTEGER NOT NULL
    );
    -- Dead-letter pages are keyset reads on (dead_lettered_at, id): id is the rowid, which every index ends with.
    CREATE INDEX IF NOT EXISTS mailroom_dead_letters_time ON mailroom_dead_letters (dead_lettered_at);
    CREATE INDEX IF NOT EXISTS mailroom_dead_letters_type ON mailroom_dead_letters (type, dead_lettered_at);
    INSERT OR IGNORE INTO mailroom_broker_meta (key, value) VALUES ('schema_version', '${BROKER_SCHEMA_VERSION}');
  `);
}
