import { MailroomError } from '@mailroom/core';
import { type ConsoleApp, type ConsoleAppOptions, createConsoleApp } from './console-app.js';
import { ConsoleErrorCodes } from './errors.js';

/** Options of {@link startConsole}. */
export interface StartConsoleOptions extends ConsoleAppOptions {
  /** Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Default 4000; 0 picks a free port. */
  port?: number;
}

/** A listening console. */
export interface RunningConsole extends ConsoleApp {
  /** The base URL, e.g. `http://127.0.0.1:4000`. */
  readonly url: string;
  /** The link that logs a browser in (it carries the token: print it only to the operator). */
  readonly loginUrl: string;
  /** The operator token in force (keep it out of logs). */
  readonly token: string;
  /** True when the token was generated at start. */
  readonly tokenGenerated: boolean;
  /** Stops listening (the transport stays open: its owner closes it). */
  close(): Promise<void>;
}

/**
 * Creates the console app and listens, on 127.0.0.1:4000 unless told otherwise. Throws
 * `MAILROOM_ERR_CONSOLE_CONFIG` for a port that is not 0-65535 or an empty host.
 */
export async function startConsole(options: StartConsoleOptions): Promise<RunningConsole> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 4000;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new MailroomError(ConsoleErrorCodes.CONSOLE_CONFIG, `console port ${port} is not 0-65535`);
  if (host.trim() === '') throw new MailroomError(ConsoleErrorCodes.CONSOLE_CONFIG, 'console host is empty');
  const made = await createConsoleApp(options);
  await made.app.listen({ host, port });
  const address = made.app.server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const url = `http://${shownHost}:${bound}`;
  return {
    ...made,
    url,
    loginUrl: made.app.operatorAuth.loginUrl(url),
    token: made.app.operatorAuth.token,
    tokenGenerated: made.app.operatorAuth.generated,
    close: () => made.app.close(),
  };
}
