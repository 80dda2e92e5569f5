import type { PostgresBrokerTables } from './broker-tables.js';
import { PostgresErrorCodes } from './errors.js';
import type { PgPool } from './pg-client.js';
import { runMigrations } from './postgres-migrations.js';

/** The schema version of the transport's tables this package writes; tables of a newer one are refused. */
export const BROKER_SCHEMA_VERSION = 2;

function steps(t: PostgresBrokerTables): string[] {
  return [
    // 1: queues, the fan-out table, messages (visible_at doubles as lease expiry), dead letters, consumers.
    `CREATE TABLE IF NOT EXISTS ${t.meta} (key text PRIMARY KEY, value text NOT NULL);
     INSERT INTO ${t.meta} (key, value) VALUES ('broker_id', gen_random_uuid()::text) ON CONFLICT DO NOTHING;
     CREATE TABLE IF NOT EXISTS ${t.queues} (endpoint text PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now());
     CREATE TABLE IF NOT EXISTS ${t.subscriptions} (type text NOT NULL, endpoint text NOT NULL, PRIMARY KEY (type, endpoint));
     CREATE TABLE IF NOT EXISTS ${t.messages} (
       seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
       endpoint text NOT NULL,
       message_id text NOT NULL DEFAULT '',
       type text NOT NULL DEFAULT '',
       headers text NOT NULL,
       body bytea NOT NULL,
       attempt integer NOT NULL DEFAULT 0,
       visible_at timestamptz NOT NULL DEFAULT now(),
       lease_token uuid,
       first_failure_at timestamptz,
       enqueued_at timestamptz NOT NULL DEFAULT now()
     );
     CREATE INDEX IF NOT EXISTS ${t.prefix}messages_ready ON ${t.messages} (endpoint, visible_at, seq);
     CREATE INDEX IF NOT EXISTS ${t.prefix}messages_lease ON ${t.messages} (lease_token) WHERE lease_token IS NOT NULL;
     CREATE TABLE IF NOT EXISTS ${t.deadLetters} (
       id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
       endpoint text NOT NULL,
       message_id text NOT NULL,
       type text NOT NULL,
       headers text NOT NULL,
       body bytea NOT NULL,
       reason text NOT NULL,
       error_message text NOT NULL,
       error_stack text,
       attempts integer NOT NULL,
       first_failure_at timestamptz NOT NULL,
       last_failure_at timestamptz NOT NULL,
       dead_lettered_at timestamptz NOT NULL DEFAULT now()
     );
     CREATE INDEX IF NOT EXISTS ${t.prefix}dead_letters_endpoint ON ${t.deadLetters} (endpoint, dead_lettered_at);
     CREATE TABLE IF NOT EXISTS ${t.consumers} (
       id uuid PRIMARY KEY,
       endpoint text NOT NULL,
       pid integer NOT NULL,
       host text NOT NULL,
       heartbeat_at timestamptz NOT NULL
     );`,
    // 2: dead-letter pages are keyset reads on (dead_lettered_at, id), alone or after an endpoint or type.
    `CREATE INDEX IF NOT EXISTS ${t.prefix}dead_letters_time ON ${t.deadLetters} (dead_lettered_at, id);
     CREATE INDEX IF NOT EXISTS ${t.prefix}dead_letters_endpoint_time ON ${t.deadLetters} (endpoint, dead_lettered_at, id);
     CREATE INDEX IF NOT EXISTS ${t.prefix}dead_letters_type_time ON ${t.deadLetters} (type, dead_lettered_at, id);
     DROP INDEX IF EXISTS ${t.schema}.${t.prefix}dead_letters_endpoint;`,
  ];
}

/**
 * Creates or upgrades the transport's tables in one transaction under an advisory lock (safe from
 * several processes at once; a no-op when up to date), then resolves with the broker's id, a random
 * id stored once in the tables: two pools that read the same id reach the same tables. Throws
 * `MAILROOM_ERR_POSTGRES_BROKER_SCHEMA` when the tables are newer than this package or a step fails.
 */
export async function migrateBroker(pool: PgPool, tables: PostgresBrokerTables): Promise<string> {
  await runMigrations(pool, {
    lockKey: `mailroom:migrate:${tables.migrations}`,
    schema: tables.schema,
    versionTable: tables.migrations,
    steps: steps(tables),
    what: "the PostgreSQL transport's tables",
    errorCode: PostgresErrorCodes.POSTGRES_BROKER_SCHEMA,
  });
  return (await readBrokerId(pool, tables)) as string;
}

/** The broker id stored in the transport's tables as `pool` sees them; undefined when they are not there. */
export async function readBrokerId(pool: PgPool, tables: PostgresBrokerTables): Promise<string | undefined> {
  try {
    const { rows } = await pool.query<{ value: string }>(`SELECT value FROM ${tables.meta} WHERE key = 'broker_id'`);
    return rows[0]?.value;
  } catch (error) {
    if ((error as { code?: string }).code === '42P01') return undefined; // undefined_table
    throw error;
  }
}
