import type { DeadLetter, DeadLetterFilter } from '../transport.js';

/** True when a dead letter matches every criterion of the filter (order, limit and cursor aside). */
export function matchesFilter(letter: DeadLetter, filter: DeadLetterFilter): boolean {
  const at = letter.deadLetteredAt.getTime();
  return (
    (filter.endpoint === undefined || letter.endpoint === filter.endpoint) &&
    (filter.type === undefined || letter.type === filter.type) &&
    (filter.since === undefined || at >= filter.since.getTime()) &&
    (filter.before === undefined || at < filter.before.getTime()) &&
    (filter.ids === undefined || filter.ids.includes(letter.id))
  );
}
