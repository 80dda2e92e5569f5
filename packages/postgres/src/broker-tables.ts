import { createHash } from 'node:crypto';
import { ErrorCodes } from '@mailroom/core';
import { assertSqlIdentifier } from '@mailroom/core/internal';
import type { PostgresTableOptions } from './postgres-tables.js';

/** The qualified names of the PostgreSQL transport's tables, checked to be plain identifiers (safe to put in SQL). */
export interface PostgresBrokerTables {
  readonly schema: string;
  readonly prefix: string;
  /** `schema.prefixqueues`: one row per endpoint queue. */
  readonly queues: string;
  /** `schema.prefixsubscriptions`: which endpoint receives which event type (the fan-out table). */
  readonly subscriptions: string;
  /** `schema.prefixmessages`: one row per message per receiving endpoint. */
  readonly messages: string;
  /** `schema.prefixdead_letters`: every endpoint's dead letters. */
  readonly deadLetters: string;
  /** `schema.prefixconsumers`: live consumers with a heartbeat. */
  readonly consumers: string;
  /** `schema.prefixbroker_meta`: the broker's id (tells whether two pools reach the same tables). */
  readonly meta: string;
  /** `schema.prefixbroker_migrations`: the schema versions applied. */
  readonly migrations: string;
  /** The `LISTEN` channel consumers are woken on (the payload is the endpoint name). */
  readonly channel: string;
}

/**
 * Resolves and checks the transport's table names (default schema `public`, prefix `mailroom_`;
 * the names do not collide with the outbox and inbox tables, so both can share a schema). Throws
 * `MAILROOM_ERR_TRANSPORT_CONFIG` for a bad schema or prefix.
 */
export function postgresBrokerTables(options: PostgresTableOptions = {}): PostgresBrokerTables {
  const schema = assertSqlIdentifier(options.schema ?? 'public', 'PostgreSQL transport schema', false, ErrorCodes.TRANSPORT_CONFIG);
  const prefix = assertSqlIdentifier(options.tablePrefix ?? 'mailroom_', 'PostgreSQL transport tablePrefix', true, ErrorCodes.TRANSPORT_CONFIG);
  const name = (table: string) => `${schema}.${prefix}${table}`;
  return {
    schema,
    prefix,
    queues: name('queues'),
    subscriptions: name('subscriptions'),
    messages: name('messages'),
    deadLetters: name('dead_letters'),
    consumers: name('consumers'),
    meta: name('broker_meta'),
    migrations: name('broker_migrations'),
    // Channel names are identifiers (at most 63 bytes): a short hash of the tables' place.
    channel: `mailroom_wake_${createHash('sha256').update(`${schema}.${prefix}`).digest('hex').slice(0, 16)}`,
  };
}
