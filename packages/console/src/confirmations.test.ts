import { describe, expect, it } from 'vitest';
import { Confirmations } from './confirmations.js';

describe('Confirmations', () => {
  it('redeems a token once, for its own scope, within two minutes', () => {
    let now = 0;
    const confirmations = new Confirmations(() => now);
    const token = confirmations.issue('purge|all');
    expect(confirmations.redeem(token, 'purge|ids:a')).toBe(false);
    const again = confirmations.issue('purge|all');
    expect(confirmations.redeem(again, 'purge|all')).toBe(true);
    expect(confirmations.redeem(again, 'purge|all')).toBe(false);
    expect(confirmations.redeem(undefined, 'purge|all')).toBe(false);
    const late = confirmations.issue('purge|all');
    now += 120_000;
    expect(confirmations.redeem(late, 'purge|all')).toBe(false);
  });
});
