import { type ConnectOptions, ErrorCodes, MailroomError, redactUrl, type Transport } from '@mailroom/core';
import { createPostgresTransport, type PostgresTransportOptions } from './postgres-transport.js';

/** URL query parameters read by the transport (removed before the URL goes to pg); every other one is pg's. */
const OWN_PARAMETERS = ['schema', 'tablePrefix', 'leaseMs', 'pollIntervalMs', 'poolSize'] as const;
const NUMBERS = new Set(['leaseMs', 'pollIntervalMs', 'poolSize']);

/**
 * Splits a `postgres://` / `postgresql://` URL into the connection string pg gets and the
 * transport's own options (`schema`, `tablePrefix`, `leaseMs`, `pollIntervalMs`, `poolSize` in the
 * query). Throws `MAILROOM_ERR_TRANSPORT_URL` for anything else, the password never shown.
 */
export function parsePostgresUrl(url: string): { connectionString: string; options: Partial<PostgresTransportOptions> } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new MailroomError(ErrorCodes.TRANSPORT_URL, `Invalid PostgreSQL URL ${redactUrl(url)}: use postgres://user[:password]@host[:port]/database`);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new MailroomError(ErrorCodes.TRANSPORT_URL, `Invalid PostgreSQL URL ${redactUrl(url)}: it must start with postgres:// or postgresql://`);
  }
  if (parsed.hostname === '' && !parsed.searchParams.has('host')) {
    throw new MailroomError(ErrorCodes.TRANSPORT_URL, `Invalid PostgreSQL URL ${redactUrl(url)}: no host; use postgres://user@host:5432/database`);
  }
  const options: Record<string, string | number> = {};
  for (const name of OWN_PARAMETERS) {
    const value = parsed.searchParams.get(name);
    if (value === null) continue;
    parsed.searchParams.delete(name);
    options[name] = NUMBERS.has(name) ? Number(value) : value;
  }
  return { connectionString: parsed.toString(), options: options as Partial<PostgresTransportOptions> };
}

/**
 * Connects a PostgreSQL transport from a URL: what `connectTransport` in `@mailroom/core` loads
 * for `postgres://` and `postgresql://`. The transport owns a pool on that database; the query
 * parameters `schema`, `tablePrefix`, `leaseMs`, `pollIntervalMs` and `poolSize` set the options
 * of the same names (the others, such as `sslmode`, go to pg); `options` sets the rest (`logger`).
 */
export async function createTransportFromUrl(url: string, options: ConnectOptions = {}): Promise<Transport> {
  const { connectionString, options: fromUrl } = parsePostgresUrl(url);
  return createPostgresTransport({ ...(options as Partial<PostgresTransportOptions>), ...fromUrl, connectionString, pool: undefined });
}
