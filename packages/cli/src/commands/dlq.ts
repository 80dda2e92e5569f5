import { Command } from 'commander';
import type { CommandContext } from '../command-context.js';
import { listCommand, showCommand } from './dlq-inspect.js';
import { purgeCommand } from './dlq-purge.js';
import { replayCommand } from './dlq-replay.js';

/** The `mailroom dlq` command group: list, show, replay, purge. */
export function dlqCommand(ctx: CommandContext): Command {
  return new Command('dlq')
    .description('inspect and act on dead letters: list (grouped by reason), show, replay, purge')
    .addCommand(listCommand(ctx))
    .addCommand(showCommand(ctx))
    .addCommand(replayCommand(ctx))
    .addCommand(purgeCommand(ctx));
}
