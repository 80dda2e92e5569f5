import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import type { CommandContext } from './command-context.js';
import { asyncapiCommand } from './commands/asyncapi.js';
import { consoleCommand } from './commands/console.js';
import { contractsCommand } from './commands/contracts.js';
import { dlqCommand } from './commands/dlq.js';
import { graphCommand } from './commands/graph.js';
import { topologyCommand } from './commands/topology.js';

/** The version of this package, read from its package.json (the same file for `src/` and `dist/`). */
export const CLI_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const EXIT_CODES_HELP = `
Exit codes:
  0  done                      4  transport: bad URL, credentials refused, broker unreachable
                                  or too slow, missing broker file
  1  unexpected failure        5  a dead letter id does not exist
  2  usage error               6  contracts check found breaking changes
  3  config or lock file       7  purge not confirmed (nothing deleted)
     missing or invalid        8  generated AsyncAPI document invalid

Environment:
  MAILROOM_TRANSPORT   the broker when --transport is not given
  MAILROOM_LOG_LEVEL   transport logs on standard error (debug, info, warn...); default silent
  MAILROOM_DEBUG       set to print the stack of an error
`;

/**
 * The `mailroom` commander program, wired to a context. Its commands throw `MailroomError`s on
 * failure; `runCli` turns those into messages and exit codes. Every command has `--help`.
 */
export function createProgram(ctx: CommandContext): Command {
  const program = new Command('mailroom')
    .description('Dead letters you can act on, contracts you cannot break by accident, and the shape of your Mailroom system.')
    .version(CLI_VERSION, '-V, --version')
    .showSuggestionAfterError()
    .addHelpText('after', EXIT_CODES_HELP)
    .addCommand(dlqCommand(ctx))
    .addCommand(contractsCommand(ctx))
    .addCommand(asyncapiCommand(ctx))
    .addCommand(graphCommand(ctx))
    .addCommand(topologyCommand(ctx))
    .addCommand(consoleCommand(ctx));
  const configure = (command: Command) => {
    command.exitOverride().configureOutput({ writeOut: (text) => ctx.io.stdout(text), writeErr: (text) => ctx.io.stderr(text) });
    command.showHelpAfterError('(add --help for usage)');
    for (const sub of command.commands) configure(sub);
  };
  configure(program);
  return program;
}
