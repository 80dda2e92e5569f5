import { errorMessage, isMailroomError } from '@mailroom/core';
import { CommanderError } from 'commander';
import { type CliIo, processIo } from './cli-io.js';
import type { CommandContext } from './command-context.js';
import { printable } from './dead-letter-view.js';
import { type ExitCode, ExitCodes, exitCodeFor } from './exit-codes.js';
import { createProgram } from './program.js';
import { redactSecrets } from './redact-secrets.js';

// `--help` and `--version` end with these codes; `help` ends with 'commander.help' and exit code 0, a missing subcommand with the same code and 1.
const DISPLAY_ONLY = new Set(['commander.helpDisplayed', 'commander.version']);

function describe(error: unknown): string {
  let text = errorMessage(error);
  if (!isMailroomError(error) && error instanceof Error && error.name !== 'Error') text = `${error.name}: ${text}`;
  if (isMailroomError(error)) text += ` (${error.code})`;
  return text;
}

/**
 * Runs the `mailroom` command with `args` (the arguments after `mailroom`) and resolves with its
 * exit code (see `ExitCodes`); it never calls `process.exit` and never rejects. Errors are printed
 * on standard error, one line, with their `MAILROOM_ERR_*` code and with every URL password and
 * token replaced by `***`.
 */
export async function runCli(args: readonly string[], io: CliIo = processIo()): Promise<ExitCode> {
  const ctx: CommandContext = { io, secrets: [] };
  const program = createProgram(ctx);
  try {
    await program.parseAsync([...args], { from: 'user' });
    return ExitCodes.OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (DISPLAY_ONLY.has(error.code) || error.exitCode === 0) return ExitCodes.OK;
      return ExitCodes.USAGE;
    }
    // Error messages can quote what a transport or a message holds: printed safely.
    io.stderr(`mailroom: ${printable(redactSecrets(describe(error), ctx.secrets))}\n`);
    if (io.env.MAILROOM_DEBUG && error instanceof Error && error.stack) io.stderr(`${redactSecrets(error.stack, ctx.secrets)}\n`);
    return exitCodeFor(error);
  }
}
