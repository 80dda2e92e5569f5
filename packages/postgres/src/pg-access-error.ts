import { MailroomError } from '@mailroom/core';
import { PostgresErrorCodes } from './errors.js';

/**
 * The typed error for a connection PostgreSQL refused for good, or undefined for anything else
 * (a server not running, a timeout: transient). SQLSTATE class `28` (wrong password, unknown role,
 * no `pg_hba.conf` entry) gives `MAILROOM_ERR_POSTGRES_ACCESS_REFUSED`, `3D000` (no such database)
 * `MAILROOM_ERR_POSTGRES_DATABASE_MISSING`. The message quotes the server's own words (which name
 * the user or the database, never a password) and says what to fix; `where` names the connection
 * for people (no password in it).
 */
export function pgAccessError(error: unknown, where = 'PostgreSQL'): MailroomError | undefined {
  const code = (error as { code?: unknown })?.code;
  const said = error instanceof Error ? error.message : String(error);
  if (typeof code === 'string' && code.startsWith('28')) {
    return new MailroomError(
      PostgresErrorCodes.POSTGRES_ACCESS_REFUSED,
      `${where} refused the login (${said}, SQLSTATE ${code}): fix the user name and password of the connection string`,
      { cause: error },
    );
  }
  if (code === '3D000') {
    return new MailroomError(
      PostgresErrorCodes.POSTGRES_DATABASE_MISSING,
      `${where}: ${said} (SQLSTATE 3D000): create the database, or fix its name in the connection string`,
      {
        cause: error,
      },
    );
  }
  return undefined;
}
