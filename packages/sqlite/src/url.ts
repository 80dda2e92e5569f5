import { type ConnectOptions, ErrorCodes, MailroomError, type Transport } from '@mailroom/core';
import { createSqliteTransport, type SqliteTransportOptions } from './sqlite-transport.js';

/**
 * Creates a SQLite transport from a URL as `connectTransport` passes it: a plain path,
 * `sqlite:path`, `sqlite://path` or `file:path`. Query parameters `synchronous`, `leaseMs`,
 * `pollIntervalMs` and `busyTimeoutMs` set the options of the same names.
 */
export async function createTransportFromUrl(url: string, options: ConnectOptions = {}): Promise<Transport> {
  let path = url;
  const query: Record<string, string> = {};
  const scheme = /^(sqlite|file):(\/\/)?/i.exec(url);
  if (scheme) {
    path = url.slice(scheme[0].length);
    const q = path.indexOf('?');
    if (q >= 0) {
      for (const [key, value] of new URLSearchParams(path.slice(q + 1))) query[key] = value;
      path = path.slice(0, q);
    }
    path = decodeURIComponent(path);
  }
  if (path === '') throw new MailroomError(ErrorCodes.TRANSPORT_URL, `SQLite transport URL ${JSON.stringify(url)} names no file`);
  const fromQuery: Partial<SqliteTransportOptions> = {};
  if (query.synchronous) fromQuery.synchronous = query.synchronous as 'normal' | 'full';
  if (query.leaseMs) fromQuery.leaseMs = Number(query.leaseMs);
  if (query.pollIntervalMs) fromQuery.pollIntervalMs = Number(query.pollIntervalMs);
  if (query.busyTimeoutMs) fromQuery.busyTimeoutMs = Number(query.busyTimeoutMs);
  return createSqliteTransport({ ...(options as Partial<SqliteTransportOptions>), ...fromQuery, path });
}
