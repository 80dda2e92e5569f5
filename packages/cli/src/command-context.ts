import { writeFileSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { errorMessage, MailroomError, type Transport } from '@mailroom/core';
import { withTimeout } from '@mailroom/core/internal';
import { type Command, Option } from 'commander';
import type { CliIo } from './cli-io.js';
import { createCliLogger } from './cli-logger.js';
import { parseWholeNumber } from './duration.js';
import { CliErrorCodes } from './errors.js';
import { findConfigFile, type LoadedConfig, loadConfig } from './load-config.js';
import { openTransport } from './open-transport.js';
import { secretsOf } from './redact-secrets.js';

/** What every command action receives: the io, and the secrets to keep out of anything printed. */
export interface CommandContext {
  readonly io: CliIo;
  /** Passwords and tokens seen in transport URLs; the CLI replaces them with `***` in all output. */
  readonly secrets: string[];
}

/** The options {@link addConfigOption} adds. */
export interface ConfigOptions {
  config?: string;
}

/** The options {@link addTransportOptions} adds. */
export interface TransportOptions extends ConfigOptions {
  transport?: string;
  timeout: number;
}

/** The default of `--timeout`: how long to wait for a broker, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** Adds `--config <path>` to a command. */
export function addConfigOption(command: Command): Command {
  return command.addOption(
    new Option('-c, --config <path>', 'the mailroom config file (default: the nearest mailroom.config.{ts,mts,js,mjs} from here upwards)'),
  );
}

/** Adds `--transport <url>`, `--timeout <ms>` and `--config <path>` to a command that talks to a broker. */
export function addTransportOptions(command: Command): Command {
  command.addOption(
    new Option(
      '-t, --transport <url>',
      'the broker: a SQLite file path, sqlite:PATH, amqp://, amqps:// or nats:// (default: $MAILROOM_TRANSPORT, then the config file\'s "transport")',
    ),
  );
  command.addOption(
    new Option('--timeout <ms>', 'give up when the broker does not answer within this many milliseconds')
      .default(DEFAULT_TIMEOUT_MS)
      .argParser(parseWholeNumber(1)),
  );
  return addConfigOption(command);
}

/** Loads the config the options name (or the nearest one); see `loadConfig`. */
export function loadConfigFor(ctx: CommandContext, options: ConfigOptions): Promise<LoadedConfig> {
  return loadConfig(ctx.io.cwd, options.config);
}

/** A transport URL and the directory its relative SQLite path starts from. */
export interface TransportTarget {
  readonly url: string;
  /** The working directory, or the config file's directory when the URL comes from the config. */
  readonly baseDir: string;
}

/**
 * The transport a command uses: `--transport`, else `MAILROOM_TRANSPORT`, else the `transport` of
 * the config file (the one `--config` names or the nearest one; a relative SQLite path in it is
 * relative to the config file). Registers the URL's secrets for redaction. Throws
 * `MAILROOM_ERR_CLI_USAGE` when none gives one.
 */
export async function transportTargetFor(ctx: CommandContext, options: TransportOptions): Promise<TransportTarget> {
  const fromEnv = ctx.io.env.MAILROOM_TRANSPORT;
  let url = options.transport ?? (fromEnv && fromEnv.trim() !== '' ? fromEnv : undefined);
  let baseDir = ctx.io.cwd;
  let configFile: string | undefined;
  if (url === undefined && (options.config !== undefined || findConfigFile(ctx.io.cwd) !== undefined)) {
    const config = await loadConfigFor(ctx, options);
    url = config.system.transport;
    baseDir = config.dir;
    configFile = config.path;
  }
  if (url === undefined || url.trim() === '') {
    const config =
      configFile !== undefined
        ? `, or give the system in ${configFile} a transport`
        : `, or point at a config file that names one with --config path/to/mailroom.config.ts (none found in ${ctx.io.cwd} or above)`;
    throw new MailroomError(
      CliErrorCodes.USAGE,
      `No transport given: pass --transport URL or set MAILROOM_TRANSPORT (a SQLite file path, amqp://..., amqps://... or nats://...)${config}`,
    );
  }
  ctx.secrets.push(...secretsOf(url));
  return { url, baseDir };
}

/** Connects the command's transport (see `openTransport`), runs `work`, and always closes the transport. */
export async function withTransport<T>(ctx: CommandContext, options: TransportOptions, work: (transport: Transport) => Promise<T>): Promise<T> {
  const { url, baseDir } = await transportTargetFor(ctx, options);
  const transport = await openTransport({ url, cwd: baseDir, timeoutMs: options.timeout, logger: createCliLogger(ctx.io.env, ctx.secrets) });
  try {
    return await work(transport);
  } finally {
    await transport.close().catch(() => undefined);
  }
}

/** Runs one broker call under `--timeout`; rejects with `MAILROOM_ERR_CLI_TIMEOUT` when it takes longer. */
export function timed<T>(options: TransportOptions, what: string, call: Promise<T>): Promise<T> {
  return withTimeout(call, options.timeout, () => new MailroomError(CliErrorCodes.TIMEOUT, `${what} did not finish within ${options.timeout} ms (--timeout)`));
}

/** Prints a value as indented JSON on standard output. */
export function printJson(ctx: CommandContext, value: unknown): void {
  ctx.io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

/** How a path is shown: relative to the working directory when it is inside it, else absolute. */
export function displayPath(ctx: CommandContext, path: string): string {
  const shown = relative(ctx.io.cwd, path);
  return shown === '' || shown.startsWith('..') || isAbsolute(shown) ? path : shown;
}

/** Writes a file (relative to the working directory). Throws `MAILROOM_ERR_CLI_OUTPUT` when it cannot be written. */
export function writeFileOrFail(ctx: CommandContext, path: string, text: string): string {
  const target = resolve(ctx.io.cwd, path);
  try {
    writeFileSync(target, text);
  } catch (error) {
    throw new MailroomError(CliErrorCodes.OUTPUT, `Cannot write ${target}: ${errorMessage(error)}`, { cause: error });
  }
  return target;
}

/** Writes `text` to the file `path`, saying so on standard error, or to standard output when no path is given. Throws `MAILROOM_ERR_CLI_OUTPUT` when the file cannot be written. */
export function writeOutput(ctx: CommandContext, path: string | undefined, text: string): void {
  if (path === undefined) ctx.io.stdout(text);
  else ctx.io.stderr(`Wrote ${displayPath(ctx, writeFileOrFail(ctx, path, text))}\n`);
}
