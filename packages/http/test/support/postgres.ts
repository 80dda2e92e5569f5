import { sleep, uniqueName } from '@mailroom/conformance';
import pg from 'pg';

/** The test database; trust auth on the developer machine. */
export const POSTGRES_URL = process.env.MAILROOM_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A unique schema name for one test run. */
export function uniqueSchema(prefix = 'mrhttp'): string {
  return uniqueName(prefix).replace('-', '_');
}

/**
 * A pool on the test database, checked with one query. Retries a refused connection for up to
 * 20 s, since another suite may be restarting PostgreSQL; idle-client errors are ignored as pg asks.
 */
export async function connectPool(max = 5): Promise<pg.Pool> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max });
    pool.on('error', () => undefined);
    try {
      await pool.query('SELECT 1');
      return pool;
    } catch (error) {
      await pool.end().catch(() => undefined);
      if (Date.now() > deadline) throw error;
      await sleep(500);
    }
  }
}
