import { type DeadLetter, type DeadLetterFilter, MailroomError, type Transport } from '@mailroom/core';
import { type Command, Option } from 'commander';
import { type TransportOptions, timed } from '../command-context.js';
import { parseSince } from '../duration.js';
import { CliErrorCodes } from '../errors.js';

/** The options of the dlq commands that select dead letters. */
export interface FilterOptions extends TransportOptions {
  endpoint?: string;
  type?: string;
  since?: Date;
  reason?: string;
  json?: boolean;
}

/** Adds `--endpoint`, `--type`, `--since` and `--reason` to a command. */
export function addFilterOptions(command: Command): Command {
  return command
    .addOption(new Option('-e, --endpoint <name>', 'only dead letters of this endpoint'))
    .addOption(new Option('--type <type>', 'only messages of this type'))
    .addOption(
      new Option('--since <duration>', 'only those dead-lettered in the last 30s / 15m / 2h / 7d, or since an ISO time').argParser((v) => parseSince(v)),
    )
    .addOption(new Option('--reason <code>', 'only those that failed with this reason (a MAILROOM_ERR_* code)'));
}

/** True when any filter option was given. */
export function hasFilters(options: FilterOptions): boolean {
  return options.endpoint !== undefined || options.type !== undefined || options.since !== undefined || options.reason !== undefined;
}

/** The filters given, as ` (endpoint billing, type shop.OrderPlaced)`; empty without filters. */
export function describeFilters(options: FilterOptions): string {
  const parts = [
    options.endpoint !== undefined && `endpoint ${options.endpoint}`,
    options.type !== undefined && `type ${options.type}`,
    options.since !== undefined && `since ${options.since.toISOString()}`,
    options.reason !== undefined && `reason ${options.reason}`,
  ].filter(Boolean);
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}

/** The dead letters the filters select (the reason filter is applied here, the others by the transport), oldest first. */
export async function matching(transport: Transport, options: FilterOptions, extra: Partial<DeadLetterFilter> = {}): Promise<DeadLetter[]> {
  const filter: DeadLetterFilter = {
    ...(options.endpoint !== undefined && { endpoint: options.endpoint }),
    ...(options.type !== undefined && { type: options.type }),
    ...(options.since !== undefined && { since: options.since }),
    ...extra,
  };
  const deadLetters = await timed(options, 'Listing dead letters', transport.deadLetters.list(filter));
  return options.reason === undefined ? deadLetters : deadLetters.filter((d) => d.reason === options.reason);
}

/** A usage error (exit code 2). */
export function usage(message: string): MailroomError {
  return new MailroomError(CliErrorCodes.USAGE, message);
}

/** `1 dead letter`, `2 dead letters`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
