import pg from 'pg';

/** The PostgreSQL server the benchmarks use (trust auth); `MAILROOM_POSTGRES_URL` overrides it. The database name is replaced. */
export const POSTGRES_URL = process.env.MAILROOM_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The URL of database `database` on the benchmark server. */
export function postgresUrlFor(database: string): string {
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Runs `sql` on the server's administrative database (creating or dropping databases). */
async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Creates database `database` on the benchmark server; returns its URL. */
export async function createBenchDatabase(database: string): Promise<string> {
  await admin(`CREATE DATABASE "${database}"`);
  return postgresUrlFor(database);
}

/** Drops database `database`, closing any session still on it. */
export function dropBenchDatabase(database: string): Promise<void> {
  return admin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
}

/** The server's version, e.g. `15.20 (Debian 15.20-0+deb12u1)`. */
export async function postgresServerVersion(): Promise<string> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return String((await client.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version);
  } finally {
    await client.end();
  }
}
