import { assertSqlIdentifier } from '@mailroom/core/internal';

/** Names of the Mailroom tables in the service's SQLite database. */
export interface SqliteTables {
  readonly prefix: string;
  readonly outbox: string;
  readonly inbox: string;
  /** Saga instances (one row per saga and correlation key). */
  readonly sagas: string;
  readonly migrations: string;
}

/** Resolves the table names for a prefix (default `mailroom_`); throws `MAILROOM_ERR_PERSISTENCE_CONFIG` for a bad prefix. */
export function sqliteTables(tablePrefix: string | undefined = 'mailroom_'): SqliteTables {
  const prefix = assertSqlIdentifier(tablePrefix, 'SQLite tablePrefix', true);
  return { prefix, outbox: `${prefix}outbox`, inbox: `${prefix}inbox`, sagas: `${prefix}sagas`, migrations: `${prefix}migrations` };
}
