/**
 * The error codes specific to `@mailroom/postgres`, next to core's `ErrorCodes` (which this package
 * uses wherever they fit: `PERSISTENCE_CONFIG`, `PERSISTENCE_SCHEMA`...). Documented in `docs/errors.md`.
 */
export const PostgresErrorCodes = {
  /** PostgreSQL refused the connection's credentials (SQLSTATE class 28: `28P01` wrong password, `28000` unknown role or no `pg_hba.conf` entry): fix the user name and password of the connection string. Not transient. */
  POSTGRES_ACCESS_REFUSED: 'MAILROOM_ERR_POSTGRES_ACCESS_REFUSED',
  /** The database named in the connection string does not exist (SQLSTATE `3D000`): create it, or fix the name. Not transient. */
  POSTGRES_DATABASE_MISSING: 'MAILROOM_ERR_POSTGRES_DATABASE_MISSING',
} as const;
