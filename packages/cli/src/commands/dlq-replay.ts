import { ErrorCodes, errorMessage, isMailroomError, MailroomError, type Transport } from '@mailroom/core';
import { Presets, SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { addTransportOptions, type CommandContext, printJson, timed, withTransport } from '../command-context.js';
import { printable } from '../dead-letter-view.js';
import { CliErrorCodes } from '../errors.js';
import { addFilterOptions, describeFilters, type FilterOptions, hasFilters, matching, plural, usage } from './dlq-filters.js';

interface ReplayOutcome {
  replayed: string[];
  failed: { id: string; code: string; message: string; error: unknown }[];
  /** Never attempted: the replay stopped at a timeout or a closed transport before reaching them. */
  skipped: string[];
}

async function replayAll(ctx: CommandContext, transport: Transport, ids: readonly string[], options: FilterOptions): Promise<ReplayOutcome> {
  const outcome: ReplayOutcome = { replayed: [], failed: [], skipped: [] };
  const bar =
    !options.json && ctx.io.stderrIsTTY && ids.length > 1
      ? new SingleBar(
          { stream: ctx.io.progressStream, format: 'replaying [{bar}] {value}/{total} {percentage}% eta {eta_formatted}', hideCursor: true },
          Presets.shades_classic,
        )
      : undefined;
  bar?.start(ids.length, 0);
  try {
    for (const [index, id] of ids.entries()) {
      try {
        await timed(options, `Replaying dead letter ${id}`, transport.deadLetters.replay(id));
        outcome.replayed.push(id);
      } catch (error) {
        outcome.failed.push({ id, code: isMailroomError(error) ? error.code : 'UNKNOWN', message: errorMessage(error), error });
        if (isMailroomError(error) && (error.code === CliErrorCodes.TIMEOUT || error.code === ErrorCodes.TRANSPORT_CLOSED)) {
          outcome.skipped.push(...ids.slice(index + 1));
          break;
        }
      }
      bar?.increment();
    }
  } finally {
    bar?.stop();
  }
  return outcome;
}

/** `mailroom dlq replay ID... | --all [filters]`: dead letters back to their queues, with a progress bar on a terminal. */
export function replayCommand(ctx: CommandContext): Command {
  const command = new Command('replay')
    .description(
      "send dead letters back to their endpoint's queue, with their original message id, headers and body (attempts start again at 1); a progress bar shows on a terminal",
    )
    .argument('[ids...]', 'dead letter ids to replay')
    .option('-a, --all', 'replay every dead letter matching the filters (all of them without filters)')
    .option('--json', 'print JSON: { replayed: [ids], failed: [{ id, code, message }], skipped: [ids never attempted] }');
  addFilterOptions(command);
  addTransportOptions(command);
  return command.action(async (ids: string[], options: FilterOptions & { all?: boolean }) => {
    if (ids.length > 0 && options.all) throw usage('Give dead letter ids or --all, not both');
    if (ids.length === 0 && !options.all) throw usage('Name the dead letters to replay (mailroom dlq replay ID...), or pass --all, with filters to narrow it');
    if (ids.length > 0 && hasFilters(options)) throw usage('Filters (--endpoint, --type, --since, --reason) apply only with --all');
    await withTransport(ctx, options, async (transport) => {
      const targets = options.all ? (await matching(transport, options)).map((d) => d.id) : ids;
      const outcome = await replayAll(ctx, transport, targets, options);
      if (options.json) {
        printJson(ctx, {
          replayed: outcome.replayed,
          failed: outcome.failed.map(({ id, code, message }) => ({ id, code, message })),
          skipped: outcome.skipped,
        });
      } else if (targets.length === 0) {
        ctx.io.stdout(`No dead letters to replay${describeFilters(options)}.\n`);
      } else {
        // Ids and messages may come from the transport (a foreign producer's message id): printed safely.
        const shown = outcome.replayed.length > 0 && outcome.replayed.length <= 20 ? `: ${printable(outcome.replayed.join(', '))}` : '';
        ctx.io.stdout(`Replayed ${plural(outcome.replayed.length, 'dead letter')}${shown}\n`);
        for (const failure of outcome.failed) ctx.io.stdout(`  not replayed ${printable(failure.id)}: ${printable(failure.message)}\n`);
        if (outcome.skipped.length > 0) ctx.io.stdout(`  skipped, never attempted: ${printable(outcome.skipped.join(', '))}\n`);
      }
      const first = outcome.failed[0];
      if (first) {
        const skipped = outcome.skipped.length > 0 ? `, ${outcome.skipped.length} skipped` : '';
        const message = `${plural(outcome.failed.length, 'dead letter')} not replayed (${outcome.replayed.length} replayed${skipped}); first: ${first.message}`;
        throw isMailroomError(first.error) ? new MailroomError(first.error.code, message, { cause: first.error }) : new Error(message, { cause: first.error });
      }
    });
  });
}
