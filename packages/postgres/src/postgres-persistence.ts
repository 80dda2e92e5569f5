import { createStorePersistence, ErrorCodes, MailroomError, type RelayTuning, type StorePersistence } from '@mailroom/core';
import type { PgPool, PgPoolClient } from './pg-client.js';
import { createPostgresDatabase } from './postgres-database.js';
import { PostgresInboxStore } from './postgres-inbox-store.js';
import { PostgresOutboxStore } from './postgres-outbox-store.js';
import { type PostgresTableOptions, postgresTables } from './postgres-tables.js';

/** Options of {@link createPostgresPersistence}. */
export interface PostgresPersistenceOptions extends PostgresTableOptions {
  /** Your pg `Pool` on the service's own database. Mailroom never closes it. Attach `pool.on('error', ...)` as pg recommends. */
  pool: PgPool;
  /** Relay settings, or `false` when another process relays this outbox. */
  relay?: RelayTuning | false;
  /** How long inbox records are kept; keep it longer than any redelivery window. Default 7 days. */
  inboxRetentionMs?: number;
  /** How often expired inbox records are deleted. Default 60 000 ms. */
  inboxCleanupIntervalMs?: number;
  /** Longest a relay holds a claim open while publishing before PostgreSQL frees its rows. Default 60 000 ms. */
  claimTimeoutMs?: number;
}

/**
 * Creates the PostgreSQL persistence of an endpoint: outbox and inbox tables in the service's own
 * database (created on start, idempotently), transactions on your pool, and the relay. Pass your
 * client type to type handler transactions: `createPostgresPersistence<PoolClient>({ pool })`.
 * Guarantees: messages written in a transaction leave if and only if it commits; a handler's inbox
 * record, its writes and its outgoing messages commit together. Throws
 * `MAILROOM_ERR_PERSISTENCE_CONFIG` for bad options.
 */
export function createPostgresPersistence<C extends PgPoolClient = PgPoolClient>(options: PostgresPersistenceOptions): StorePersistence<C> {
  if (typeof options?.pool?.connect !== 'function' || typeof options.pool.query !== 'function') {
    throw new MailroomError(
      ErrorCodes.PERSISTENCE_CONFIG,
      'createPostgresPersistence needs { pool }: your pg Pool on the service database, e.g. new pg.Pool({ connectionString })',
    );
  }
  const pool = options.pool;
  const tables = postgresTables(options);
  return createStorePersistence<C>({
    database: createPostgresDatabase<C>(pool, tables),
    outbox: new PostgresOutboxStore({ pool, tables, ...(options.claimTimeoutMs !== undefined && { claimTimeoutMs: options.claimTimeoutMs }) }),
    inbox: new PostgresInboxStore(pool, tables),
    ...(options.relay !== undefined && { relay: options.relay }),
    ...(options.inboxRetentionMs !== undefined && { inboxRetentionMs: options.inboxRetentionMs }),
    ...(options.inboxCleanupIntervalMs !== undefined && { inboxCleanupIntervalMs: options.inboxCleanupIntervalMs }),
  });
}
