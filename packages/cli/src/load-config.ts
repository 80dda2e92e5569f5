import { existsSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { defineSystem, errorMessage, isMailroomError, MailroomError, type System, type SystemDefinition } from '@mailroom/core';
import { CliErrorCodes } from './errors.js';

/** The file names `mailroom` looks for, in this order, in the working directory and then each parent. */
export const CONFIG_FILE_NAMES = ['mailroom.config.ts', 'mailroom.config.mts', 'mailroom.config.js', 'mailroom.config.mjs'] as const;

/** A loaded config: the system it describes and where it was found. */
export interface LoadedConfig {
  readonly system: System;
  /** Absolute path of the config file. */
  readonly path: string;
  /** The directory of the config file (where `contracts.lock.json` lives by default). */
  readonly dir: string;
}

/** The nearest config file from `cwd` upwards, or undefined when there is none. */
export function findConfigFile(cwd: string): string | undefined {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    for (const name of CONFIG_FILE_NAMES) {
      const candidate = join(dir, name);
      if (existsSync(candidate)) return candidate;
    }
    if (dirname(dir) === dir) return undefined;
  }
}

async function importConfig(path: string): Promise<unknown> {
  const url = pathToFileURL(path).href;
  if (['.ts', '.mts', '.cts'].includes(extname(path))) {
    const { tsImport } = await import('tsx/esm/api');
    return tsImport(url, import.meta.url);
  }
  return import(url);
}

/**
 * Loads the system a config file describes: the file `explicitPath` names, or else the nearest
 * `mailroom.config.{ts,mts,js,mjs}` from `cwd` upwards. The default export is a `defineSystem(...)`
 * result, a plain object of the same shape, or a function (possibly async) returning one.
 * TypeScript configs are loaded with tsx. Guarantees a checked {@link System}; throws
 * `MAILROOM_ERR_CLI_CONFIG_NOT_FOUND` or `MAILROOM_ERR_CLI_CONFIG_INVALID` otherwise.
 */
export async function loadConfig(cwd: string, explicitPath?: string): Promise<LoadedConfig> {
  const path = explicitPath === undefined ? findConfigFile(cwd) : resolve(cwd, explicitPath);
  if (path === undefined) {
    throw new MailroomError(
      CliErrorCodes.CONFIG_NOT_FOUND,
      `No ${CONFIG_FILE_NAMES.join(' / ')} in ${resolve(cwd)} or its parents: create one whose default export is defineSystem({ endpoints: [...] }), or pass --config PATH`,
    );
  }
  if (!existsSync(path)) throw new MailroomError(CliErrorCodes.CONFIG_NOT_FOUND, `Config file ${path} does not exist`);
  let exported: unknown;
  try {
    const module = (await importConfig(path)) as { default?: unknown };
    exported = module.default;
    // A .ts file outside an ESM package is compiled as CommonJS: its default export arrives one level down.
    if (typeof exported === 'object' && exported !== null && !('endpoints' in exported) && 'default' in exported) {
      exported = (exported as { default: unknown }).default;
    }
    if (typeof exported === 'function') exported = await (exported as () => unknown)();
  } catch (error) {
    throw new MailroomError(CliErrorCodes.CONFIG_INVALID, `Cannot load config ${path}: ${errorMessage(error)}`, { cause: error });
  }
  if (typeof exported !== 'object' || exported === null) {
    throw new MailroomError(
      CliErrorCodes.CONFIG_INVALID,
      `Config ${path} has no default export describing the system: export default defineSystem({ endpoints: [{ name, consumes, publishes, sends }] })`,
    );
  }
  try {
    return { system: defineSystem(exported as SystemDefinition), path, dir: dirname(path) };
  } catch (error) {
    if (isMailroomError(error)) throw new MailroomError(CliErrorCodes.CONFIG_INVALID, `Config ${path}: ${error.message}`, { cause: error });
    throw error;
  }
}
