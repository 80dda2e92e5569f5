import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, isMailroomError } from '../errors.js';
import type { DeadLetter, DeadLetterFilter } from '../transport.js';
import { compareDeadLetters, decodeDeadLetterCursor, encodeDeadLetterCursor, pageDeadLetters } from './dead-letter-paging.js';

function letter(id: string, at: number, endpoint = 'e', type = 't'): DeadLetter {
  const date = new Date(at);
  return {
    id,
    endpoint,
    messageId: id,
    type,
    headers: {},
    body: new Uint8Array(),
    reason: ErrorCodes.HANDLER_FAILED,
    errorMessage: '',
    errorStack: undefined,
    attempts: 1,
    firstFailureAt: date,
    lastFailureAt: date,
    deadLetteredAt: date,
  };
}

function walk(letters: DeadLetter[], filter: DeadLetterFilter): DeadLetter[] {
  const seen: DeadLetter[] = [];
  let cursor: string | undefined;
  do {
    const page = pageDeadLetters(letters, cursor === undefined ? filter : { ...filter, cursor }, 'test');
    seen.push(...page.letters);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return seen;
}

const letters = fc
  .uniqueArray(fc.tuple(fc.nat(1000), fc.integer({ min: 0, max: 20 })), { selector: ([id]) => id, maxLength: 60 })
  .map((rows) => rows.map(([id, at]) => letter(`q:${id}`, at)));

describe('dead-letter paging in memory', () => {
  it('a cursor walk returns every letter exactly once, in (time, id) order, both ways, whatever the page size', () => {
    fc.assert(
      fc.property(letters, fc.integer({ min: 1, max: 7 }), (all, limit) => {
        const sorted = [...all].sort(compareDeadLetters);
        expect(walk(all, { limit }).map((l) => l.id)).toEqual(sorted.map((l) => l.id));
        expect(walk(all, { limit, order: 'newest-first' }).map((l) => l.id)).toEqual(sorted.reverse().map((l) => l.id));
      }),
    );
  });

  it('orders equal times by id length, then id, so queue:seq ids come in number order', () => {
    expect([letter('q:10', 5), letter('q:9', 5), letter('q:2', 4)].sort(compareDeadLetters).map((l) => l.id)).toEqual(['q:2', 'q:9', 'q:10']);
  });

  it('round-trips a cursor and refuses one from another transport or order, or a malformed one', () => {
    const cursor = encodeDeadLetterCursor('sqlite', 'oldest-first', { at: '1733400000123', id: '42' });
    expect(decodeDeadLetterCursor(cursor, 'sqlite', 'oldest-first')).toEqual({ at: '1733400000123', id: '42' });
    const refused = (value: unknown, transport = 'sqlite', order: 'oldest-first' | 'newest-first' = 'oldest-first') => {
      try {
        decodeDeadLetterCursor(value, transport, order);
        return false;
      } catch (error) {
        return isMailroomError(error, ErrorCodes.DEAD_LETTER_CURSOR_INVALID);
      }
    };
    expect(refused(cursor, 'postgres')).toBe(true);
    expect(refused(cursor, 'sqlite', 'newest-first')).toBe(true);
    expect(refused(Buffer.from(JSON.stringify([1, 'sqlite', 'oldest-first', '12.5', '1'])).toString('base64url'))).toBe(true);
    expect(refused(Buffer.from(JSON.stringify([2, 'sqlite', 'oldest-first', '1', '1'])).toString('base64url'))).toBe(true);
    expect(refused(42)).toBe(true);
    fc.assert(fc.property(fc.string(), (text) => text === cursor || refused(text)));
  });

  it('checks the page filter before reading', () => {
    for (const filter of [{ limit: 0 }, { limit: 1001 }, { limit: 2.5 }, { since: new Date('nope') }, { order: 'up' as never }])
      expect(() => pageDeadLetters([], filter, 'test')).toThrow(expect.objectContaining({ code: ErrorCodes.DEAD_LETTER_FILTER_INVALID }));
    expect(pageDeadLetters([letter('1', 1)], { limit: 1000 }, 'test').letters.length).toBe(1);
  });
});
