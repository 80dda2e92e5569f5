import { describe, expect, it } from 'vitest';
import { ErrorCodes, isMailroomError } from '../errors.js';
import { ALREADY_SETTLED, claimSettle } from './settle-once.js';

describe('claimSettle', () => {
  it('lets exactly the first of two settles of one delivery through, and refuses the second with MAILROOM_ERR_TRANSPORT_SETTLED', () => {
    const inFlight = new Map([['token/1', 'lease']]);
    expect(() => claimSettle(inFlight, 'token/1')).not.toThrow();
    expect(inFlight.has('token/1')).toBe(false);
    let refused: unknown;
    try {
      claimSettle(inFlight, 'token/1');
    } catch (error) {
      refused = error;
    }
    expect(isMailroomError(refused, ErrorCodes.TRANSPORT_SETTLED)).toBe(true);
    expect((refused as Error).message).toBe(ALREADY_SETTLED);
  });

  it('refuses a delivery its subscription gave back (no longer held), and leaves the others held', () => {
    const inFlight = new Set(['a', 'b']);
    inFlight.delete('a'); // returned to the queue on close
    expect(() => claimSettle(inFlight, 'a')).toThrow(ALREADY_SETTLED);
    expect([...inFlight]).toEqual(['b']);
  });
});
