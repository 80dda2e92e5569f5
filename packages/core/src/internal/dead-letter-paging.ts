import { ErrorCodes, MailroomError } from '../errors.js';
import {
  DEFAULT_DEAD_LETTER_PAGE_SIZE,
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterOrder,
  type DeadLetterPage,
  MAX_DEAD_LETTER_PAGE_SIZE,
} from '../transport.js';
import { matchesFilter } from './dead-letter-filter.js';

/**
 * A keyset position in a dead-letter queue: the (dead-lettered time, id) of the last letter of a
 * page. `at` is the time as decimal text in whatever unit the transport stores (milliseconds,
 * PostgreSQL's microseconds), so no precision is lost on the way through the cursor.
 */
export interface DeadLetterPosition {
  readonly at: string;
  readonly id: string;
}

/** A page request after {@link checkPageFilter}: its order, size and, when continuing, where. */
export interface PageRequest {
  readonly order: DeadLetterOrder;
  readonly limit: number;
  readonly after: DeadLetterPosition | undefined;
}

const ORDERS: readonly DeadLetterOrder[] = ['oldest-first', 'newest-first'];
const CURSOR_VERSION = 1;
const DECIMAL = /^-?\d{1,20}$/;
const MAX_CURSOR_LENGTH = 2048;

function invalidFilter(message: string): MailroomError {
  return new MailroomError(ErrorCodes.DEAD_LETTER_FILTER_INVALID, message);
}

function invalidCursor(message: string): MailroomError {
  return new MailroomError(ErrorCodes.DEAD_LETTER_CURSOR_INVALID, message);
}

function checkDate(name: string, value: unknown): void {
  if (value === undefined) return;
  if (!(value instanceof Date) || !Number.isFinite(value.getTime()))
    throw invalidFilter(`Dead-letter filter ${name} must be a valid Date, got ${String(value)}`);
}

/**
 * The order of a filter for `list` and `purge`, after checking its dates, order and limit (a whole
 * number >= 0 when given). Throws `MAILROOM_ERR_DEAD_LETTER_FILTER_INVALID`.
 */
export function checkDeadLetterFilter(filter: DeadLetterFilter): DeadLetterOrder {
  checkDate('since', filter.since);
  checkDate('before', filter.before);
  const order = filter.order ?? 'oldest-first';
  if (!ORDERS.includes(order)) throw invalidFilter(`Dead-letter filter order must be 'oldest-first' or 'newest-first', got ${JSON.stringify(order)}`);
  if (filter.limit !== undefined && !(Number.isSafeInteger(filter.limit) && filter.limit >= 0))
    throw invalidFilter(`Dead-letter filter limit must be a whole number >= 0, got ${String(filter.limit)}`);
  return order;
}

/**
 * Checks a `page` filter and decodes its cursor: limit 1..{@link MAX_DEAD_LETTER_PAGE_SIZE}
 * (default {@link DEFAULT_DEAD_LETTER_PAGE_SIZE}), valid dates, a known order, and a cursor this
 * `transport` handed out for the same order. Throws `MAILROOM_ERR_DEAD_LETTER_FILTER_INVALID` or
 * `MAILROOM_ERR_DEAD_LETTER_CURSOR_INVALID`.
 */
export function checkPageFilter(filter: DeadLetterFilter, transport: string): PageRequest {
  checkDate('since', filter.since);
  checkDate('before', filter.before);
  const order = filter.order ?? 'oldest-first';
  if (!ORDERS.includes(order)) throw invalidFilter(`Dead-letter filter order must be 'oldest-first' or 'newest-first', got ${JSON.stringify(order)}`);
  const limit = filter.limit ?? DEFAULT_DEAD_LETTER_PAGE_SIZE;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_DEAD_LETTER_PAGE_SIZE)
    throw invalidFilter(`A dead-letter page limit must be a whole number from 1 to ${MAX_DEAD_LETTER_PAGE_SIZE}, got ${String(filter.limit)}`);
  const after = filter.cursor === undefined ? undefined : decodeDeadLetterCursor(filter.cursor, transport, order);
  return { order, limit, after };
}

/** An opaque cursor for the position after `position`, only valid for `transport` and `order`. */
export function encodeDeadLetterCursor(transport: string, order: DeadLetterOrder, position: DeadLetterPosition): string {
  return Buffer.from(JSON.stringify([CURSOR_VERSION, transport, order, position.at, position.id]), 'utf8').toString('base64url');
}

/** The position a cursor from {@link encodeDeadLetterCursor} holds; throws `MAILROOM_ERR_DEAD_LETTER_CURSOR_INVALID`. */
export function decodeDeadLetterCursor(cursor: unknown, transport: string, order: DeadLetterOrder): DeadLetterPosition {
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor))
    throw invalidCursor('The dead-letter cursor is malformed: pass the nextCursor of a previous page unchanged');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor('The dead-letter cursor is malformed: pass the nextCursor of a previous page unchanged');
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 5 ||
    parsed[0] !== CURSOR_VERSION ||
    typeof parsed[3] !== 'string' ||
    !DECIMAL.test(parsed[3]) ||
    typeof parsed[4] !== 'string'
  )
    throw invalidCursor('The dead-letter cursor is malformed: pass the nextCursor of a previous page unchanged');
  if (parsed[1] !== transport) throw invalidCursor(`The dead-letter cursor was handed out by another transport (${String(parsed[1])}), not ${transport}`);
  if (parsed[2] !== order)
    throw invalidCursor(`The dead-letter cursor was handed out for order ${String(parsed[2])}, not ${order}: keep the order while paging`);
  return { at: parsed[3], id: parsed[4] };
}

/**
 * Orders dead letters by (dead-lettered time, id), ids by length then character by character (so
 * numeric ids and `queue:seq` ids come in number order): a total order, so a keyset position
 * splits any set of letters in two without ties.
 */
export function compareDeadLetters(a: Pick<DeadLetter, 'deadLetteredAt' | 'id'>, b: Pick<DeadLetter, 'deadLetteredAt' | 'id'>): number {
  const byTime = a.deadLetteredAt.getTime() - b.deadLetteredAt.getTime();
  if (byTime !== 0) return byTime;
  if (a.id.length !== b.id.length) return a.id.length - b.id.length;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The letters matching the filter (cursor and limit aside), sorted in its order. */
export function selectDeadLetters(letters: Iterable<DeadLetter>, filter: DeadLetterFilter, order: DeadLetterOrder): DeadLetter[] {
  const matches = [...letters].filter((letter) => matchesFilter(letter, filter)).sort(compareDeadLetters);
  return order === 'newest-first' ? matches.reverse() : matches;
}

/**
 * One page out of letters held in memory (or read whole from a broker that cannot seek): for
 * transports whose dead-letter storage has no index. Costs a pass over every letter and a sort;
 * the keyset semantics are the same as the indexed transports'.
 */
export function pageDeadLetters(letters: Iterable<DeadLetter>, filter: DeadLetterFilter, transport: string): DeadLetterPage {
  const { order, limit, after } = checkPageFilter(filter, transport);
  let sorted = selectDeadLetters(letters, filter, order);
  if (after) {
    const pivot = { id: after.id, deadLetteredAt: new Date(Number(after.at)) };
    sorted = sorted.filter((letter) => (order === 'oldest-first' ? compareDeadLetters(letter, pivot) > 0 : compareDeadLetters(letter, pivot) < 0));
  }
  const page = sorted.slice(0, limit);
  const last = page.at(-1);
  const nextCursor =
    sorted.length > limit && last ? encodeDeadLetterCursor(transport, order, { at: String(last.deadLetteredAt.getTime()), id: last.id }) : undefined;
  return { letters: page, nextCursor };
}
