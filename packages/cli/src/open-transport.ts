import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  connectTransport,
  ErrorCodes,
  errorMessage,
  isMailroomError,
  type Logger,
  MailroomError,
  redactUrl,
  type Transport,
  transportScheme,
} from '@mailroom/core';
import { withTimeout } from '@mailroom/core/internal';
import { CliErrorCodes } from './errors.js';

/** Where and how long {@link openTransport} connects. */
export interface OpenTransportOptions {
  /** The transport URL: a SQLite file path, `sqlite:PATH`, `amqp://`, `amqps://`, `nats://` or `memory:`. */
  url: string;
  /** The directory relative SQLite paths start from. */
  cwd: string;
  /** Gives up connecting after this many milliseconds. */
  timeoutMs: number;
  /** Handed to the adapter (default: the adapter's own). */
  logger?: Logger;
}

/** The path of the broker file a SQLite URL names (the same rules as `@mailroom/sqlite`), resolved against `cwd`. */
export function sqliteFileOf(url: string, cwd: string): string {
  let path = url;
  const scheme = /^(sqlite|file):(\/\/)?/i.exec(url);
  if (scheme) {
    path = url.slice(scheme[0].length);
    const query = path.indexOf('?');
    if (query >= 0) path = path.slice(0, query);
    path = decodeURIComponent(path);
  }
  return resolve(cwd, path);
}

/**
 * Connects the transport a URL names, for a command that inspects or repairs it. Guarantees it
 * never creates a SQLite broker file (throws `MAILROOM_ERR_CLI_BROKER_FILE_NOT_FOUND`), never
 * waits longer than `timeoutMs` (throws `MAILROOM_ERR_TRANSPORT_UNAVAILABLE`, and closes a
 * connection that arrives late), and reports any other failure as a `MailroomError` whose message
 * names the URL with its password redacted.
 */
export async function openTransport({ url, cwd, timeoutMs, logger }: OpenTransportOptions): Promise<Transport> {
  const scheme = transportScheme(url);
  let target = url;
  if (scheme === 'sqlite:' || scheme === 'file:') {
    const file = sqliteFileOf(url, cwd);
    if (!existsSync(file)) {
      throw new MailroomError(
        CliErrorCodes.BROKER_FILE_NOT_FOUND,
        `SQLite broker file ${file} does not exist (from transport ${JSON.stringify(redactUrl(url))}); check the path, or start an endpoint on it first`,
      );
    }
    // Hand the adapter the absolute path, so a relative one means the same file whatever the process's directory.
    const query = /^(sqlite|file):/i.test(url) && url.includes('?') ? url.slice(url.indexOf('?')) : '';
    target = query === '' ? file : `sqlite:${file.split('/').map(encodeURIComponent).join('/')}${query}`;
  }
  const connecting = connectTransport(target, logger ? { logger } : {});
  try {
    return await withTimeout(
      connecting,
      timeoutMs,
      () =>
        new MailroomError(
          ErrorCodes.TRANSPORT_UNAVAILABLE,
          `The broker at ${redactUrl(url)} did not answer within ${timeoutMs} ms (--timeout); is it running and reachable?`,
        ),
    );
  } catch (error) {
    void connecting.then((late) => late.close()).catch(() => undefined);
    if (isMailroomError(error)) throw error;
    throw new MailroomError(ErrorCodes.TRANSPORT_UNAVAILABLE, `Cannot connect to ${redactUrl(url)}: ${errorMessage(error)}`, { cause: error });
  }
}
