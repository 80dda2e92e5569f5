import { ErrorCodes, MailroomError } from '@mailroom/core';
import { Command } from 'commander';
import { ask } from '../cli-io.js';
import { addTransportOptions, type CommandContext, printJson, timed, withTransport } from '../command-context.js';
import { printable } from '../dead-letter-view.js';
import { CliErrorCodes } from '../errors.js';
import { addFilterOptions, describeFilters, type FilterOptions, hasFilters, matching, plural, usage } from './dlq-filters.js';

/** `mailroom dlq purge ID... | [filters]`: deletes dead letters, after a confirmation unless `--yes`. */
export function purgeCommand(ctx: CommandContext): Command {
  const command = new Command('purge')
    .description('delete dead letters for good: the ids given, or every one matching the filters (all of them without filters); asks first unless --yes')
    .argument('[ids...]', 'dead letter ids to delete')
    .option('-y, --yes', 'do not ask for confirmation (required when standard input is not a terminal, e.g. in CI)')
    .option('--json', 'print JSON: { purged, ids, notFound }');
  addFilterOptions(command);
  addTransportOptions(command);
  return command.action(async (ids: string[], options: FilterOptions & { yes?: boolean }) => {
    if (ids.length > 0 && hasFilters(options)) throw usage('Give dead letter ids or filters, not both');
    await withTransport(ctx, options, async (transport) => {
      const found = await matching(transport, options, ids.length > 0 ? { ids } : {});
      const foundIds = found.map((d) => d.id);
      const notFound = ids.filter((id) => !foundIds.includes(id));
      const what = `${plural(found.length, 'dead letter')}${ids.length > 0 ? '' : hasFilters(options) ? describeFilters(options) : ' (every dead letter: no filter given)'}`;
      if (found.length > 0 && !options.yes) {
        if (!ctx.io.stdinIsTTY) {
          throw new MailroomError(
            CliErrorCodes.NOT_CONFIRMED,
            `Refusing to purge ${what} without --yes: standard input is not a terminal, so there is no one to confirm. Nothing was deleted; re-run with --yes.`,
          );
        }
        const answer = await ask(ctx.io, `Delete ${what} for good? This cannot be undone. [y/N] `);
        if (!/^y(es)?$/i.test(answer)) throw new MailroomError(CliErrorCodes.NOT_CONFIRMED, 'Not confirmed; nothing was deleted.');
      }
      const purged = found.length === 0 ? 0 : await timed(options, 'Purging dead letters', transport.deadLetters.purge({ ids: foundIds }));
      if (options.json) printJson(ctx, { purged, ids: foundIds, notFound });
      else ctx.io.stdout(found.length === 0 ? `No dead letters to purge${describeFilters(options)}.\n` : `Purged ${plural(purged, 'dead letter')}\n`);
      if (notFound.length > 0) throw new MailroomError(ErrorCodes.DEAD_LETTER_NOT_FOUND, `No dead letter with id ${printable(notFound.join(', '))}`);
    });
  });
}
