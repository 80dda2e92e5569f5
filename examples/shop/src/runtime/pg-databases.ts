import { redactUrl } from '@mailroom/core';
import { pgAccessError } from '@mailroom/postgres';
import pg from 'pg';
import type { ShopConfig } from '../shop-config.js';

/** The URL of database `name` on the server `serverUrl`. */
export function pgDatabaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** The PostgreSQL database name of a service. */
export function pgDatabaseName(config: ShopConfig, service: string): string {
  return `${config.pgDatabasePrefix}${service}`;
}

/**
 * Creates database `name` on the server unless it exists; safe when several processes race to create it.
 * A login the server refuses rejects with `MAILROOM_ERR_POSTGRES_ACCESS_REFUSED` (or `..._DATABASE_MISSING`).
 */
export async function ensurePgDatabase(serverUrl: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: pgDatabaseUrl(serverUrl, 'postgres') });
  try {
    await admin.connect();
  } catch (error) {
    throw pgAccessError(error, `PostgreSQL at ${redactUrl(serverUrl)} (SHOP_PG_URL)`) ?? error;
  }
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
  } catch (error) {
    // 42P04 duplicate_database, 23505 unique_violation: another process created it first.
    const code = (error as { code?: string }).code;
    if (code !== '42P04' && code !== '23505') throw error;
  } finally {
    await admin.end().catch(() => undefined);
  }
}

/** Drops database `name` on the server, if it exists, closing its open connections first. */
export async function dropPgDatabase(serverUrl: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: pgDatabaseUrl(serverUrl, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end().catch(() => undefined);
  }
}
