import { Command, Option } from 'commander';
import { addTransportOptions, type CommandContext, printJson, type TransportOptions, timed, withTransport } from '../command-context.js';
import { detail, groupByReason, renderDetail, renderGroups, summarize } from '../dead-letter-view.js';
import { parseWholeNumber } from '../duration.js';
import { addFilterOptions, describeFilters, type FilterOptions, matching, plural } from './dlq-filters.js';

/** `mailroom dlq list`: dead letters grouped by reason. */
export function listCommand(ctx: CommandContext): Command {
  const command = new Command('list')
    .description('list dead letters, grouped by failure reason (largest group first)')
    .addOption(new Option('--limit <n>', 'at most this many (oldest first)').argParser(parseWholeNumber(1)))
    .option('--json', 'print JSON: { total, groups: [{ reason, count, ids }], deadLetters: [...] }');
  addFilterOptions(command);
  addTransportOptions(command);
  return command.action(async (options: FilterOptions & { limit?: number }) => {
    await withTransport(ctx, options, async (transport) => {
      let deadLetters = await matching(transport, options);
      if (options.limit !== undefined) deadLetters = deadLetters.slice(0, options.limit);
      const groups = groupByReason(deadLetters);
      if (options.json) {
        printJson(ctx, {
          total: deadLetters.length,
          groups: groups.map((g) => ({ reason: g.reason, count: g.count, ids: g.deadLetters.map((d) => d.id) })),
          deadLetters: deadLetters.map(summarize),
        });
        return;
      }
      if (deadLetters.length === 0) {
        ctx.io.stdout(`No dead letters${describeFilters(options)}.\n`);
        return;
      }
      ctx.io.stdout(`${plural(deadLetters.length, 'dead letter')}${describeFilters(options)}, ${plural(groups.length, 'reason')}\n\n${renderGroups(groups)}`);
    });
  });
}

/** `mailroom dlq show ID`: one dead letter with headers, body and stack. */
export function showCommand(ctx: CommandContext): Command {
  const command = new Command('show')
    .description('show one dead letter: failure, headers, body and stack')
    .argument('<id>', 'the dead letter id (from `mailroom dlq list`)')
    .option('--json', 'print JSON (the body parsed when it is JSON, else text or base64)');
  addTransportOptions(command);
  return command.action(async (id: string, options: TransportOptions & { json?: boolean }) => {
    await withTransport(ctx, options, async (transport) => {
      const deadLetter = await timed(options, `Reading dead letter ${id}`, transport.deadLetters.get(id));
      if (options.json) printJson(ctx, detail(deadLetter));
      else ctx.io.stdout(renderDetail(deadLetter));
    });
  });
}
