import type { PgPool, PgPoolClient } from './pg-client.js';

const ignoreError = () => undefined;

/**
 * Checks a client out of `pool` for Mailroom's own use. While it is out, an `error` event (the
 * server restarted or ended the session between two queries) is absorbed instead of crashing the
 * process: the next query on that client rejects, and {@link releaseClient} destroys it.
 */
export async function checkout<C extends PgPoolClient>(pool: PgPool): Promise<C> {
  const client = (await pool.connect()) as C;
  client.on('error', ignoreError);
  return client;
}

/** Returns a client from {@link checkout} to its pool, or destroys it when `error` is given. */
export function releaseClient(client: PgPoolClient, error?: unknown): void {
  client.removeListener('error', ignoreError);
  client.release(error === undefined ? undefined : error instanceof Error ? error : new Error(String(error)));
}

/**
 * Runs `work` on a client of `pool` between `BEGIN` and `COMMIT`; rolls back when `work` (or the
 * commit) rejects, then rethrows. The client always goes back to the pool, or is destroyed when
 * its connection failed.
 */
export async function withTransaction<C extends PgPoolClient, T>(pool: PgPool, work: (client: C) => Promise<T>): Promise<T> {
  const client = await checkout<C>(pool);
  try {
    await client.query('BEGIN');
  } catch (error) {
    releaseClient(client, error);
    throw error;
  }
  let result: T;
  try {
    result = await work(client);
    await client.query('COMMIT');
  } catch (error) {
    await rollback(client);
    throw error;
  }
  releaseClient(client);
  return result;
}

/** Rolls back and releases a client from {@link checkout}, or destroys it when even that fails. */
export async function rollback(client: PgPoolClient): Promise<void> {
  try {
    await client.query('ROLLBACK');
    releaseClient(client);
  } catch (error) {
    releaseClient(client, error);
  }
}
