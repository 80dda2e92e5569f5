import { type DeadLetter, type DeadLetterFilter, ErrorCodes, errorMessage, isMailroomError, MailroomError, type Transport } from '@mailroom/core';
import { Presets, SingleBar } from 'cli-progress';
import { Command, Option } from 'commander';
import { ask } from '../cli-io.js';
import { addTransportOptions, type CommandContext, printJson, type TransportOptions, withTransport } from '../command-context.js';
import { detail, groupByReason, renderDetail, renderGroups, summarize } from '../dead-letter-view.js';
import { parseSince, parseWholeNumber } from '../duration.js';
import { CliErrorCodes } from '../errors.js';
import { withTimeout } from '../with-timeout.js';

interface FilterOptions extends TransportOptions {
  endpoint?: string;
  type?: string;
  since?: Date;
  reason?: string;
  json?: boolean;
}

function addFilterOptions(command: Command): Command {
  return command
    .addOption(new Option('-e, --endpoint <name>', 'only dead letters of this endpoint'))
    .addOption(new Option('--type <type>', 'only messages of this type'))
    .addOption(
      new Option('--since <duration>', 'only those dead-lettered in the last 30s / 15m / 2h / 7d, or since an ISO time').argParser((v) => parseSince(v)),
    )
    .addOption(new Option('--reason <code>', 'only those that failed with this reason (a MAILROOM_ERR_* code)'));
}

function hasFilters(options: FilterOptions): boolean {
  return options.endpoint !== undefined || options.type !== undefined || options.since !== undefined || options.reason !== undefined;
}

function describeFilters(options: FilterOptions): string {
  const parts = [
    options.endpoint !== undefined && `endpoint ${options.endpoint}`,
    options.type !== undefined && `type ${options.type}`,
    options.since !== undefined && `since ${options.since.toISOString()}`,
    options.reason !== undefined && `reason ${options.reason}`,
  ].filter(Boolean);
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}

/** Runs one broker call under `--timeout`. */
function timed<T>(options: TransportOptions, what: string, call: Promise<T>): Promise<T> {
  return withTimeout(call, options.timeout, () => new MailroomError(CliErrorCodes.TIMEOUT, `${what} did not finish within ${options.timeout} ms (--timeout)`));
}

async function matching(transport: Transport, options: FilterOptions, extra: Partial<DeadLetterFilter> = {}): Promise<DeadLetter[]> {
  const filter: DeadLetterFilter = {
    ...(options.endpoint !== undefined && { endpoint: options.endpoint }),
    ...(options.type !== undefined && { type: options.type }),
    ...(options.since !== undefined && { since: options.since }),
    ...extra,
  };
  const deadLetters = await timed(options, 'Listing dead letters', transport.deadLetters.list(filter));
  return options.reason === undefined ? deadLetters : deadLetters.filter((d) => d.reason === options.reason);
}

function usage(message: string): MailroomError {
  return new MailroomError(CliErrorCodes.USAGE, message);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function listCommand(ctx: CommandContext): Command {
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

function showCommand(ctx: CommandContext): Command {
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

interface ReplayOutcome {
  replayed: string[];
  failed: { id: string; code: string; message: string; error: unknown }[];
}

async function replayAll(ctx: CommandContext, transport: Transport, ids: readonly string[], options: FilterOptions): Promise<ReplayOutcome> {
  const outcome: ReplayOutcome = { replayed: [], failed: [] };
  const bar =
    !options.json && ctx.io.stderrIsTTY && ids.length > 1
      ? new SingleBar(
          { stream: ctx.io.progressStream, format: 'replaying [{bar}] {value}/{total} {percentage}% eta {eta_formatted}', hideCursor: true },
          Presets.shades_classic,
        )
      : undefined;
  bar?.start(ids.length, 0);
  try {
    for (const id of ids) {
      try {
        await timed(options, `Replaying dead letter ${id}`, transport.deadLetters.replay(id));
        outcome.replayed.push(id);
      } catch (error) {
        outcome.failed.push({ id, code: isMailroomError(error) ? error.code : 'UNKNOWN', message: errorMessage(error), error });
        if (isMailroomError(error) && (error.code === CliErrorCodes.TIMEOUT || error.code === ErrorCodes.TRANSPORT_CLOSED)) break;
      }
      bar?.increment();
    }
  } finally {
    bar?.stop();
  }
  return outcome;
}

function replayCommand(ctx: CommandContext): Command {
  const command = new Command('replay')
    .description(
      "send dead letters back to their endpoint's queue, with their original message id, headers and body (attempts start again at 1); a progress bar shows on a terminal",
    )
    .argument('[ids...]', 'dead letter ids to replay')
    .option('-a, --all', 'replay every dead letter matching the filters (all of them without filters)')
    .option('--json', 'print JSON: { replayed: [ids], failed: [{ id, code, message }] }');
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
        printJson(ctx, { replayed: outcome.replayed, failed: outcome.failed.map(({ id, code, message }) => ({ id, code, message })) });
      } else if (targets.length === 0) {
        ctx.io.stdout(`No dead letters to replay${describeFilters(options)}.\n`);
      } else {
        const shown = outcome.replayed.length <= 20 ? `: ${outcome.replayed.join(', ')}` : '';
        ctx.io.stdout(`Replayed ${plural(outcome.replayed.length, 'dead letter')}${outcome.replayed.length > 0 ? shown : ''}\n`);
        for (const failure of outcome.failed) ctx.io.stdout(`  not replayed ${failure.id}: ${failure.message}\n`);
      }
      const first = outcome.failed[0];
      if (first) {
        const message = `${plural(outcome.failed.length, 'dead letter')} not replayed (${outcome.replayed.length} replayed); first: ${first.message}`;
        throw isMailroomError(first.error) ? new MailroomError(first.error.code, message, { cause: first.error }) : new Error(message, { cause: first.error });
      }
    });
  });
}

function purgeCommand(ctx: CommandContext): Command {
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
      if (notFound.length > 0) throw new MailroomError(ErrorCodes.DEAD_LETTER_NOT_FOUND, `No dead letter with id ${notFound.join(', ')}`);
    });
  });
}

/** The `mailroom dlq` command group: list, show, replay, purge. */
export function dlqCommand(ctx: CommandContext): Command {
  return new Command('dlq')
    .description('inspect and act on dead letters: list (grouped by reason), show, replay, purge')
    .addCommand(listCommand(ctx))
    .addCommand(showCommand(ctx))
    .addCommand(replayCommand(ctx))
    .addCommand(purgeCommand(ctx));
}
