import {
  createStorePersistence,
  ErrorCodes,
  MailroomError,
  type PersistenceContext,
  type RelayTuning,
  type SagaStore,
  StorePersistence,
  type StorePersistenceOptions,
} from '@mailroom/core';
import { readBrokerId } from './broker-schema.js';
import { PostgresDirectOutbox } from './direct-outbox.js';
import { PostgresErrorCodes } from './errors.js';
import type { PgPool, PgPoolClient } from './pg-client.js';
import { createPostgresDatabase } from './postgres-database.js';
import { PostgresInboxStore } from './postgres-inbox-store.js';
import { PostgresOutboxStore } from './postgres-outbox-store.js';
import { PostgresSagaStore } from './postgres-saga-store.js';
import { type PostgresTableOptions, postgresTables } from './postgres-tables.js';
import type { PostgresTransport } from './postgres-transport.js';

/** Options of {@link createPostgresPersistence}. */
export interface PostgresPersistenceOptions extends PostgresTableOptions {
  /** Your pg `Pool` on the service's own database. Mailroom never closes it. Attach `pool.on('error', ...)` as pg recommends. */
  pool: PgPool;
  /**
   * The endpoint's PostgreSQL transport, when its tables are in this same database: messages
   * published in a transaction are then inserted straight into the transport's queues in that
   * transaction (no outbox row, no relay). Checked on start: the endpoint must run on this
   * transport and `pool` must reach its tables, else `MAILROOM_ERR_POSTGRES_NOT_SAME_DATABASE`.
   */
  transport?: PostgresTransport;
  /** Relay settings, or `false` when another process relays this outbox. Not with `transport` (there is no relay). */
  relay?: RelayTuning | false;
  /** How long inbox records are kept; keep it longer than any redelivery window. Default 7 days. */
  inboxRetentionMs?: number;
  /** How often expired inbox records are deleted. Default 60 000 ms. */
  inboxCleanupIntervalMs?: number;
  /** Longest a relay holds a claim open while publishing before PostgreSQL frees its rows. Default 60 000 ms. */
  claimTimeoutMs?: number;
}

/**
 * A persistence that publishes straight into its PostgreSQL transport's tables: on start it checks
 * that the endpoint runs on that transport (or another connection to the same tables) and that the
 * persistence's pool reaches them, so a message written in a transaction really is delivered with it.
 */
class DirectPostgresPersistence<C> extends StorePersistence<C> {
  constructor(
    options: StorePersistenceOptions<C>,
    private readonly pool: PgPool,
    private readonly transport: PostgresTransport,
  ) {
    super(options);
  }

  override async start(context: PersistenceContext): Promise<void> {
    const endpointTransport = context.transport as Partial<PostgresTransport>;
    if (endpointTransport !== this.transport && endpointTransport.brokerId !== this.transport.brokerId) {
      throw new MailroomError(
        PostgresErrorCodes.POSTGRES_NOT_SAME_DATABASE,
        `Endpoint ${context.endpoint} runs on the ${String(context.transport.name)} transport, but its persistence publishes into the PostgreSQL transport's tables (${this.transport.tables.messages}); pass the endpoint that transport, or drop the persistence's transport option`,
      );
    }
    const seen = await readBrokerId(this.pool, this.transport.tables);
    if (seen !== this.transport.brokerId) {
      throw new MailroomError(
        PostgresErrorCodes.POSTGRES_NOT_SAME_DATABASE,
        `The persistence's pool does not reach the PostgreSQL transport's tables (${this.transport.tables.messages} ${seen === undefined ? 'is not in its database' : 'there belongs to another broker'}): a message written in a transaction would not be delivered with it. Give the persistence a pool on the transport's database, or drop its transport option to use the outbox and relay`,
      );
    }
    await super.start(context);
  }
}

/**
 * Creates the PostgreSQL persistence of an endpoint: outbox and inbox tables in the service's own
 * database (created on start, idempotently), transactions on your pool, and the relay. Pass your
 * client type to type handler transactions: `createPostgresPersistence<PoolClient>({ pool })`.
 * Guarantees: messages written in a transaction leave if and only if it commits; a handler's inbox
 * record, its writes and its outgoing messages commit together. With `transport` (a PostgreSQL
 * transport on this same database) a message written in a transaction is inserted into the
 * transport's queue in that transaction: the commit is the delivery. Throws
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
  const transport = options.transport;
  if (transport !== undefined && (transport?.name !== 'postgres' || typeof transport.enqueue !== 'function')) {
    throw new MailroomError(ErrorCodes.PERSISTENCE_CONFIG, 'createPostgresPersistence: transport must be a PostgreSQL transport (createPostgresTransport)');
  }
  if (transport !== undefined && options.relay !== undefined && options.relay !== false) {
    throw new MailroomError(
      ErrorCodes.PERSISTENCE_CONFIG,
      'createPostgresPersistence: relay settings do not apply with transport (messages go straight into its tables, no relay runs)',
    );
  }
  const common = {
    database: createPostgresDatabase<C>(pool, tables),
    inbox: new PostgresInboxStore(pool, tables),
    sagas: new PostgresSagaStore(tables) as SagaStore<C>,
    ...(options.inboxRetentionMs !== undefined && { inboxRetentionMs: options.inboxRetentionMs }),
    ...(options.inboxCleanupIntervalMs !== undefined && { inboxCleanupIntervalMs: options.inboxCleanupIntervalMs }),
  };
  if (transport) return new DirectPostgresPersistence<C>({ ...common, outbox: new PostgresDirectOutbox(transport), relay: false }, pool, transport);
  return createStorePersistence<C>({
    ...common,
    outbox: new PostgresOutboxStore({ pool, tables, ...(options.claimTimeoutMs !== undefined && { claimTimeoutMs: options.claimTimeoutMs }) }),
    ...(options.relay !== undefined && { relay: options.relay }),
  });
}
