// A login PostgreSQL refuses, or a database it does not have, is not transient: the persistence's
// start (its migration) rejects at once with a typed error that says what to fix.

import { Services, serviceAvailable, uniqueName } from '@mailroom/conformance';
import { isMailroomError } from '@mailroom/core';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { migratePostgres, PostgresErrorCodes, pgAccessError, postgresTables } from '../src/index.js';
import { POSTGRES_URL } from './pg-fixture.js';

const available = await serviceAvailable(Services.postgres);
if (!available) {
  if (process.env.CI) throw new Error('PostgreSQL is required under CI');
  console.warn('[mailroom] skipping the PostgreSQL access error tests: PostgreSQL is not running');
}

async function migrationError(url: string): Promise<unknown> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  pool.on('error', () => undefined);
  try {
    await migratePostgres(pool, postgresTables({}));
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await pool.end();
  }
}

function withUrl(change: (url: URL) => void): string {
  const url = new URL(POSTGRES_URL);
  change(url);
  return url.toString();
}

describe.runIf(available)('PostgreSQL refusals at start', () => {
  it('an unknown role: MAILROOM_ERR_POSTGRES_ACCESS_REFUSED naming the user, no password in the message', async () => {
    const user = uniqueName('nobody').replace(/-/g, '_');
    const error = await migrationError(
      withUrl((url) => {
        url.username = user;
        url.password = 's3cret-password';
      }),
    );
    expect(isMailroomError(error, PostgresErrorCodes.POSTGRES_ACCESS_REFUSED), String(error)).toBe(true);
    expect((error as Error).message).toContain(`role "${user}" does not exist`);
    expect((error as Error).message).toMatch(/SQLSTATE 28000\): fix the user name and password/);
    expect((error as Error).message).not.toContain('s3cret-password');
  });

  it('an unknown database: MAILROOM_ERR_POSTGRES_DATABASE_MISSING naming it', async () => {
    const database = uniqueName('nodb').replace(/-/g, '_');
    const error = await migrationError(
      withUrl((url) => {
        url.pathname = `/${database}`;
      }),
    );
    expect(isMailroomError(error, PostgresErrorCodes.POSTGRES_DATABASE_MISSING), String(error)).toBe(true);
    expect((error as Error).message).toContain(`database "${database}" does not exist`);
  });

  it('leaves other errors alone (transient ones stay untyped here)', () => {
    expect(pgAccessError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBeUndefined();
    expect(pgAccessError(Object.assign(new Error('password authentication failed for user "x"'), { code: '28P01' }))?.code).toBe(
      PostgresErrorCodes.POSTGRES_ACCESS_REFUSED,
    );
  });
});
