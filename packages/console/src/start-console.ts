import { HeartbeatMonitor, type Logger, MailroomError } from '@mailroom/core';
import { type ConsoleApp, type ConsoleAppOptions, createConsoleApp } from './console-app.js';
import { ConsoleErrorCodes } from './errors.js';
import { heartbeatInstanceSource } from './instance-source.js';

/** Options of {@link startConsole}. */
export interface StartConsoleOptions extends ConsoleAppOptions {
  /** Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Default 4000; 0 picks a free port. */
  port?: number;
  /**
   * Endpoint heartbeats: unless `instances` is given or this is `false`, the console runs a
   * `HeartbeatMonitor` on its transport (endpoint `name`, default `mailroom-console`) and shows
   * its instances alive or stale. Stopped by `close()`. One console per system: two monitors with
   * one name share its queue and each sees only part of the heartbeats.
   */
  heartbeats?: false | { name?: string; logger?: Logger };
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
  /** The heartbeat monitor the console started, if any. */
  readonly monitor: HeartbeatMonitor | undefined;
  /** Stops listening and the heartbeat monitor (the transport stays open: its owner closes it). */
  close(): Promise<void>;
}

/**
 * Creates the console app, starts its heartbeat monitor (see `heartbeats`) and listens, on
 * 127.0.0.1:4000 unless told otherwise. Throws
 * `MAILROOM_ERR_CONSOLE_CONFIG` for a port that is not 0-65535 or an empty host.
 */
export async function startConsole(options: StartConsoleOptions): Promise<RunningConsole> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 4000;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new MailroomError(ConsoleErrorCodes.CONSOLE_CONFIG, `console port ${port} is not 0-65535`);
  if (host.trim() === '') throw new MailroomError(ConsoleErrorCodes.CONSOLE_CONFIG, 'console host is empty');
  const monitor =
    options.instances === undefined && options.heartbeats !== false
      ? new HeartbeatMonitor({
          transport: options.transport,
          ...(options.heartbeats?.name !== undefined && { name: options.heartbeats.name }),
          ...(options.heartbeats?.logger !== undefined && { logger: options.heartbeats.logger }),
        })
      : undefined;
  const made = await createConsoleApp({ ...options, ...(monitor && { instances: heartbeatInstanceSource(monitor) }) });
  try {
    await monitor?.start();
    await made.app.listen({ host, port });
  } catch (error) {
    await monitor?.stop().catch(() => undefined);
    await made.app.close().catch(() => undefined);
    throw error;
  }
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
    monitor,
    close: async () => {
      await made.app.close();
      await monitor?.stop();
    },
  };
}
