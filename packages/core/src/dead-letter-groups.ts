import { describeFailure } from './failure-fingerprint.js';
import type { DeadLetter, DeadLetterFilter, DeadLetterQueue } from './transport.js';
import { MAX_DEAD_LETTER_PAGE_SIZE } from './transport.js';

/** Dead letters that failed the same way: one failure fingerprint, with what they have in common. */
export interface DeadLetterGroup {
  /** The {@link failureFingerprint} every letter of the group shares. */
  readonly fingerprint: string;
  /** The error code (the dead letters' `reason`). */
  readonly reason: string;
  /** The normalized error message (data replaced by placeholders). */
  readonly message: string;
  /** The top stack frame, function and file, when the letters carry a stack. */
  readonly topFrame: string | undefined;
  readonly count: number;
  /** The earliest `deadLetteredAt` of the group. */
  readonly firstSeen: Date;
  /** The latest `deadLetteredAt` of the group. */
  readonly lastSeen: Date;
  /** The endpoints affected, sorted. */
  readonly endpoints: string[];
  /** The message types affected, sorted. */
  readonly types: string[];
  /** The id of one letter of the group (the latest seen), to show as an example. */
  readonly sampleId: string;
}

/** Groups dead letters one at a time; memory grows with the number of groups, not of letters. */
export class DeadLetterGrouper {
  private readonly groups = new Map<
    string,
    { group: Omit<DeadLetterGroup, 'endpoints' | 'types' | 'count'>; count: number; endpoints: Set<string>; types: Set<string> }
  >();

  /** Counts one dead letter into its group. */
  add(letter: DeadLetter): void {
    const { fingerprint, reason, message, topFrame } = describeFailure(letter);
    const at = letter.deadLetteredAt;
    const entry = this.groups.get(fingerprint);
    if (!entry) {
      this.groups.set(fingerprint, {
        group: { fingerprint, reason, message, topFrame, firstSeen: at, lastSeen: at, sampleId: letter.id },
        count: 1,
        endpoints: new Set([letter.endpoint]),
        types: new Set([letter.type]),
      });
      return;
    }
    entry.count += 1;
    entry.endpoints.add(letter.endpoint);
    entry.types.add(letter.type);
    if (at.getTime() < entry.group.firstSeen.getTime()) entry.group = { ...entry.group, firstSeen: at };
    if (at.getTime() >= entry.group.lastSeen.getTime()) entry.group = { ...entry.group, lastSeen: at, sampleId: letter.id };
  }

  /** The groups so far, most recently seen first (ties by fingerprint). */
  result(): DeadLetterGroup[] {
    return [...this.groups.values()]
      .map(({ group, count, endpoints, types }) => ({ ...group, count, endpoints: [...endpoints].sort(), types: [...types].sort() }))
      .sort((a, b) => b.lastSeen.getTime() - a.lastSeen.getTime() || (a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0));
  }
}

/**
 * Groups dead letters by {@link failureFingerprint}, most recently seen group first. Pure: the
 * result does not depend on the order of `letters`, except which letter of a group with several
 * letters at its last-seen time is the sample.
 */
export function groupDeadLetters(letters: Iterable<DeadLetter>): DeadLetterGroup[] {
  const grouper = new DeadLetterGrouper();
  for (const letter of letters) grouper.add(letter);
  return grouper.result();
}

/**
 * Groups the dead letters of a queue matching `filter` (its cursor, limit and order aside),
 * reading them page by page ({@link MAX_DEAD_LETTER_PAGE_SIZE} at a time), so memory stays bounded
 * by the number of groups, not of letters. Letters added while it reads may or may not be counted.
 * It yields to the event loop after every page, so a server grouping a large queue (a synchronous
 * store such as SQLite included) keeps answering its other requests meanwhile.
 */
export async function groupDeadLetterQueue(queue: Pick<DeadLetterQueue, 'page'>, filter: DeadLetterFilter = {}): Promise<DeadLetterGroup[]> {
  const { cursor: _cursor, limit: _limit, order: _order, ...matching } = filter;
  const grouper = new DeadLetterGrouper();
  let cursor: string | undefined;
  do {
    const page = await queue.page({ ...matching, limit: MAX_DEAD_LETTER_PAGE_SIZE, ...(cursor === undefined ? {} : { cursor }) });
    for (const letter of page.letters) grouper.add(letter);
    cursor = page.nextCursor;
    if (cursor !== undefined) await yieldToEventLoop();
  } while (cursor !== undefined);
  return grouper.result();
}

/** Resolves after the I/O callbacks waiting now have run (a `setImmediate`). */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
