import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MailroomError } from '@mailroom/core';
import { Command, Option } from 'commander';
import { addConfigOption, type CommandContext, type ConfigOptions, displayPath, loadConfigFor, printJson, writeFileOrFail } from '../command-context.js';
import { type ContractChange, diffContracts } from '../contract-diff.js';
import { LOCK_FILE_NAME, readLock, serializeLock, snapshotContracts } from '../contracts-lock.js';
import { CliErrorCodes } from '../errors.js';

interface LockOptions extends ConfigOptions {
  lock?: string;
  json?: boolean;
}

function addLockOption(command: Command): Command {
  return command.addOption(new Option('-l, --lock <path>', `the lock file (default: ${LOCK_FILE_NAME} beside the config file)`));
}

function renderChange(change: ContractChange): string {
  const where = change.version === undefined ? change.type : `${change.type} v${change.version}`;
  return `  ${where}: ${change.message}\n`;
}

function snapshotCommand(ctx: CommandContext): Command {
  const command = new Command('snapshot').description(
    `record the project's contracts (versions, JSON Schemas, producers, consumers) in ${LOCK_FILE_NAME}; commit it with each release`,
  );
  addLockOption(command);
  addConfigOption(command);
  return command.action(async (options: LockOptions) => {
    const config = await loadConfigFor(ctx, options);
    const lockPath = resolve(ctx.io.cwd, options.lock ?? resolve(config.dir, LOCK_FILE_NAME));
    const lock = snapshotContracts(config.system);
    const text = serializeLock(lock);
    const unchanged = existsSync(lockPath) && readFileSync(lockPath, 'utf8') === text;
    if (!unchanged) writeFileOrFail(ctx, lockPath, text);
    const entries = Object.entries(lock.contracts);
    for (const [type, entry] of entries) {
      const missing = Object.entries(entry.schemas).filter(([, schema]) => schema === null);
      for (const [version] of missing) ctx.io.stderr(`warning: ${type} v${version} has no JSON Schema; \`contracts check\` cannot compare its fields\n`);
    }
    ctx.io.stdout(
      `${unchanged ? 'Unchanged' : 'Recorded'} ${entries.length} contract${entries.length === 1 ? '' : 's'} in ${displayPath(ctx, lockPath)}: ${entries
        .map(([type, entry]) => `${type} v${entry.version}`)
        .join(', ')}\n`,
    );
  });
}

function checkCommand(ctx: CommandContext): Command {
  const command = new Command('check')
    .description(
      `compare the project's contracts with ${LOCK_FILE_NAME} and fail (exit code 6) on a breaking change: a removed or retyped field, a new required field without a default, a removed version with no upcaster, a type removed while still consumed`,
    )
    .option('--json', 'print JSON: { ok, breaking: [...], compatible: [...] }');
  addLockOption(command);
  addConfigOption(command);
  return command.action(async (options: LockOptions) => {
    const config = await loadConfigFor(ctx, options);
    const lockPath = resolve(ctx.io.cwd, options.lock ?? resolve(config.dir, LOCK_FILE_NAME));
    const changes = diffContracts(readLock(lockPath), snapshotContracts(config.system));
    const breaking = changes.filter((c) => c.breaking);
    const compatible = changes.filter((c) => !c.breaking);
    const lockName = displayPath(ctx, lockPath);
    if (options.json) {
      printJson(ctx, { ok: breaking.length === 0, lock: lockPath, breaking, compatible });
    } else {
      const count = config.system.contracts.length;
      ctx.io.stdout(
        `Checked ${count} contract${count === 1 ? '' : 's'} against ${lockName}: ${
          breaking.length === 0 ? 'no breaking changes' : `${breaking.length} breaking change${breaking.length === 1 ? '' : 's'}`
        }.\n`,
      );
      if (breaking.length > 0) ctx.io.stdout(`\nBreaking:\n${breaking.map(renderChange).join('')}`);
      if (compatible.length > 0) ctx.io.stdout(`\nCompatible:\n${compatible.map(renderChange).join('')}`);
      if (breaking.length === 0 && compatible.length > 0) ctx.io.stdout(`\nRun \`mailroom contracts snapshot\` to record them in ${lockName}.\n`);
    }
    if (breaking.length > 0) {
      throw new MailroomError(
        CliErrorCodes.CONTRACTS_BREAKING,
        `${breaking.length} breaking contract change${breaking.length === 1 ? '' : 's'} against ${lockName}`,
      );
    }
  });
}

/** The `mailroom contracts` command group: snapshot and check. */
export function contractsCommand(ctx: CommandContext): Command {
  return new Command('contracts')
    .description(`record the project's contracts in ${LOCK_FILE_NAME} and check changes against it (for CI)`)
    .addCommand(snapshotCommand(ctx))
    .addCommand(checkCommand(ctx));
}
