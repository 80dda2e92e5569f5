/**
 * The error codes of `@mailroom/postgres`. Every error this package throws is a `MailroomError` with
 * one of these codes or a core code where one fits (`MAILROOM_ERR_TRANSPORT_*`,
 * `MAILROOM_ERR_PERSISTENCE_*`); `docs/errors.md` lists them all.
 */
export const PostgresErrorCodes = {
  /**
   * The PostgreSQL transport's tables could not be created, or they hold a schema version newer
   * than this package knows (upgrade `@mailroom/postgres` in every process that uses them).
   */
  POSTGRES_BROKER_SCHEMA: 'MAILROOM_ERR_POSTGRES_BROKER_SCHEMA',
  /**
   * A persistence told to publish straight into the PostgreSQL transport's tables
   * (`createPostgresPersistence({ pool, transport })`) cannot do so: its pool reaches another
   * database than the transport's, or the endpoint runs on another transport. The message says which.
   */
  POSTGRES_NOT_SAME_DATABASE: 'MAILROOM_ERR_POSTGRES_NOT_SAME_DATABASE',
  /** PostgreSQL refused the connection's credentials (SQLSTATE class 28: `28P01` wrong password, `28000` unknown role or no `pg_hba.conf` entry): fix the user name and password of the connection string. Not transient. */
  POSTGRES_ACCESS_REFUSED: 'MAILROOM_ERR_POSTGRES_ACCESS_REFUSED',
  /** The database named in the connection string does not exist (SQLSTATE `3D000`): create it, or fix the name. Not transient. */
  POSTGRES_DATABASE_MISSING: 'MAILROOM_ERR_POSTGRES_DATABASE_MISSING',
} as const;
