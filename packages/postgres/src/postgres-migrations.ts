import { type ErrorCode, ErrorCodes, errorMessage, isMailroomError, MailroomError } from '@mailroom/core';
import { pgAccessError } from './pg-access-error.js';
import type { PgPool } from './pg-client.js';
import { withTransaction } from './pg-transaction.js';
import type { PostgresTables } from './postgres-tables.js';

/** The schema version this package writes; a database with a newer one is refused. */
export const POSTGRES_SCHEMA_VERSION = 3;

function migrations(t: PostgresTables): string[] {
  return [
    // 1: the outbox (one row per message, sent rows kept until their retention ends) and the inbox.
    `CREATE TABLE IF NOT EXISTS ${t.outbox} (
       seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
       route_kind text NOT NULL CHECK (route_kind IN ('event', 'command')),
       type text NOT NULL,
       destination text,
       headers json NOT NULL,
       body bytea NOT NULL,
       ordering_key text,
       attempts integer NOT NULL DEFAULT 0,
       last_error text,
       available_at timestamptz NOT NULL DEFAULT now(),
       created_at timestamptz NOT NULL DEFAULT now(),
       sent_at timestamptz
     );
     CREATE INDEX IF NOT EXISTS ${t.prefix}outbox_unsent ON ${t.outbox} (seq) WHERE sent_at IS NULL;
     CREATE INDEX IF NOT EXISTS ${t.prefix}outbox_key ON ${t.outbox} (ordering_key, seq) WHERE sent_at IS NULL AND ordering_key IS NOT NULL;
     CREATE INDEX IF NOT EXISTS ${t.prefix}outbox_sent ON ${t.outbox} (sent_at) WHERE sent_at IS NOT NULL;
     CREATE TABLE IF NOT EXISTS ${t.inbox} (
       endpoint text NOT NULL,
       message_id text NOT NULL,
       processed_at timestamptz NOT NULL DEFAULT now(),
       PRIMARY KEY (endpoint, message_id)
     );
     CREATE INDEX IF NOT EXISTS ${t.prefix}inbox_processed ON ${t.inbox} (processed_at);`,
    // 2: scheduled messages: when the transport is to deliver the row's message (NULL = now).
    `ALTER TABLE ${t.outbox} ADD COLUMN IF NOT EXISTS deliver_at timestamptz;`,
    // 3: saga instances, one row per (saga, correlation key), with a version for optimistic concurrency.
    `CREATE TABLE IF NOT EXISTS ${t.sagas} (
       saga text NOT NULL,
       saga_key text NOT NULL,
       instance_id text NOT NULL,
       version integer NOT NULL,
       data jsonb NOT NULL,
       created_at timestamptz NOT NULL DEFAULT now(),
       updated_at timestamptz NOT NULL DEFAULT now(),
       completed_at timestamptz,
       PRIMARY KEY (saga, saga_key)
     );`,
  ];
}

/** What {@link runMigrations} needs: where the version table is, the steps, and how to report failure. */
export interface MigrationPlan {
  /** Serializes concurrent runs: the key of the transaction-scoped advisory lock. */
  readonly lockKey: string;
  /** The schema to create when missing (`public` is never created). */
  readonly schema: string;
  /** Qualified name of the table recording applied versions. */
  readonly versionTable: string;
  /** Step `n` (from 1) brings the tables to version `n`. */
  readonly steps: readonly string[];
  /** What the tables are, for messages ("the Mailroom tables", "the transport's tables"). */
  readonly what: string;
  /** The code of every error thrown. */
  readonly errorCode: ErrorCode;
}

/**
 * Applies the steps a database lacks, in one transaction under an advisory lock, so several
 * processes starting at once are safe; a no-op when up to date. Throws a `MailroomError` with
 * `plan.errorCode` when the database is newer than `plan.steps` or a step fails.
 */
export async function runMigrations(pool: PgPool, plan: MigrationPlan): Promise<void> {
  try {
    await withTransaction(pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [plan.lockKey]);
      if (plan.schema !== 'public') await client.query(`CREATE SCHEMA IF NOT EXISTS ${plan.schema}`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${plan.versionTable} (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
      const { rows } = await client.query<{ version: number | null }>(`SELECT max(version) AS version FROM ${plan.versionTable}`);
      const current = rows[0]?.version ?? 0;
      if (current > plan.steps.length) {
        throw new MailroomError(
          plan.errorCode,
          `${plan.what.charAt(0).toUpperCase()}${plan.what.slice(1)} in ${plan.schema} are at schema version ${current}, newer than this @mailroom/postgres knows (${plan.steps.length}); upgrade the package`,
        );
      }
      for (let version = current + 1; version <= plan.steps.length; version++) {
        await client.query(plan.steps[version - 1] as string);
        await client.query(`INSERT INTO ${plan.versionTable} (version) VALUES ($1)`, [version]);
      }
    });
  } catch (error) {
    if (isMailroomError(error)) throw error;
    const refused = pgAccessError(error);
    if (refused) throw refused;
    throw new MailroomError(plan.errorCode, `Could not create ${plan.what} in PostgreSQL schema ${plan.schema}: ${errorMessage(error)}`, { cause: error });
  }
}

/**
 * Creates or upgrades the Mailroom tables in one transaction under an advisory lock, so several
 * processes starting at once are safe; a no-op when up to date. Throws
 * `MAILROOM_ERR_PERSISTENCE_SCHEMA` when the database is newer than this package or a step fails,
 * and `MAILROOM_ERR_POSTGRES_ACCESS_REFUSED` / `MAILROOM_ERR_POSTGRES_DATABASE_MISSING` at once when
 * PostgreSQL refuses the login or has no such database (not transient: retrying cannot help).
 */
export function migratePostgres(pool: PgPool, tables: PostgresTables): Promise<void> {
  return runMigrations(pool, {
    lockKey: `mailroom:migrate:${tables.migrations}`,
    schema: tables.schema,
    versionTable: tables.migrations,
    steps: migrations(tables),
    what: 'the Mailroom tables',
    errorCode: ErrorCodes.PERSISTENCE_SCHEMA,
  });
}
