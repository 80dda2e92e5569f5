import type { System, Transport } from '@mailroom/core';
import { Command, Option } from 'commander';
import { createCliLogger } from '../cli-logger.js';
import { addTransportOptions, type CommandContext, loadConfigFor, type TransportOptions, transportTargetFor } from '../command-context.js';
import { parseWholeNumber } from '../duration.js';
import { findConfigFile } from '../load-config.js';
import { openTransport } from '../open-transport.js';

interface ConsoleOptions extends TransportOptions {
  port: number;
  host: string;
  dataDir: string;
}

/** Resolves when the process is asked to stop (SIGINT or SIGTERM). */
function untilStopped(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/**
 * The `mailroom console` command: starts the Mailroom console (web UI and API, `@mailroom/console`)
 * on the command's transport, with the contracts and graph of the config file when there is one.
 * Bound to 127.0.0.1 unless `--host` says otherwise; the operator token is `MAILROOM_CONSOLE_TOKEN`,
 * or one generated now whose login link is printed once. It watches endpoint heartbeats with a
 * `HeartbeatMonitor` (endpoint `mailroom-console`). Runs until SIGINT or SIGTERM.
 */
export function consoleCommand(ctx: CommandContext): Command {
  const command = new Command('console')
    .description('start the Mailroom console: failed messages grouped, retried, edited; endpoints, heartbeats and the choreography, in your browser')
    .addOption(new Option('-p, --port <port>', 'the port to listen on (0: any free one)').default(4000).argParser(parseWholeNumber(0)))
    .addOption(new Option('--host <host>', 'the address to listen on; anything but loopback exposes the console to your network').default('127.0.0.1'))
    .addOption(new Option('--data-dir <dir>', 'where the audit log and the archive are kept').default('.mailroom-console'));
  addTransportOptions(command);
  return command.action(async (options: ConsoleOptions) => {
    const { url, baseDir } = await transportTargetFor(ctx, options);
    let system: System | undefined;
    if (options.config !== undefined || findConfigFile(ctx.io.cwd) !== undefined) system = (await loadConfigFor(ctx, options)).system;
    const { startConsole } = await import('@mailroom/console');
    const logger = createCliLogger(ctx.io.env, ctx.secrets);
    const transport: Transport = await openTransport({ url, cwd: baseDir, timeoutMs: options.timeout, logger });
    try {
      const token = ctx.io.env.MAILROOM_CONSOLE_TOKEN;
      const running = await startConsole({
        transport,
        ...(system && { system }),
        ...(token !== undefined && token.trim() !== '' && { token }),
        host: options.host,
        port: options.port,
        dataDir: options.dataDir,
        heartbeats: { logger },
      });
      ctx.secrets.push(running.token);
      if (!['127.0.0.1', '::1', 'localhost'].includes(options.host)) {
        ctx.io.stderr(`Warning: --host ${options.host} is not loopback: anyone who can reach this address can try the console's login\n`);
      }
      ctx.io.stdout(
        `Mailroom console on ${running.url} (${transport.name}${system ? `, ${system.contracts.length} contracts` : ', no config: edits are checked as JSON only'})\n`,
      );
      // The login link carries the token: printed once, unredacted, and only when it was generated here.
      if (running.tokenGenerated) ctx.io.stdout(`Log in (generated token, printed once): ${running.loginUrl}\n`);
      else ctx.io.stdout(`Log in with the token in MAILROOM_CONSOLE_TOKEN at ${running.url}/\n`);
      await untilStopped();
      await running.close();
    } finally {
      await transport.close().catch(() => undefined);
    }
  });
}
