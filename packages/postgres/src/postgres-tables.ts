import { assertSqlIdentifier } from '@mailroom/core/internal';

/** Where the Mailroom tables live in the service's PostgreSQL database. */
export interface PostgresTableOptions {
  /** The schema holding the tables; created on start when missing. Default `public`. */
  schema?: string;
  /** Prefix of every table and index name. Default `mailroom_`. */
  tablePrefix?: string;
}

/** The qualified names of the Mailroom tables, checked to be plain identifiers (safe to put in SQL). */
export interface PostgresTables {
  readonly schema: string;
  readonly prefix: string;
  /** `schema.prefixoutbox` */
  readonly outbox: string;
  /** `schema.prefixinbox` */
  readonly inbox: string;
  /** `schema.prefixsagas`: saga instances. */
  readonly sagas: string;
  /** `schema.prefixmigrations` */
  readonly migrations: string;
}

/** Resolves and checks table names; throws `MAILROOM_ERR_PERSISTENCE_CONFIG` for a bad schema or prefix. */
export function postgresTables(options: PostgresTableOptions = {}): PostgresTables {
  const schema = assertSqlIdentifier(options.schema ?? 'public', 'PostgreSQL schema');
  const prefix = assertSqlIdentifier(options.tablePrefix ?? 'mailroom_', 'PostgreSQL tablePrefix', true);
  return {
    schema,
    prefix,
    outbox: `${schema}.${prefix}outbox`,
    inbox: `${schema}.${prefix}inbox`,
    sagas: `${schema}.${prefix}sagas`,
    migrations: `${schema}.${prefix}migrations`,
  };
}
