import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, MailroomError, UnrecoverableError } from './errors.js';
import { backoffDelay, defaultRecoverabilityConfig, defaultRecoverabilityPolicy, resolveRecoverabilityConfig } from './recoverability.js';

describe('recoverability', () => {
  const config = resolveRecoverabilityConfig({ immediateRetries: 2, delayedRetries: 3, initialDelayMs: 100, factor: 2, jitter: 0, maxDelayMs: 10_000 });

  it('retries immediately, then with exponential backoff, then dead-letters', () => {
    const actions = [1, 2, 3, 4, 5, 6].map((failed) => defaultRecoverabilityPolicy(new Error('x'), failed, config));
    expect(actions).toEqual([
      { action: 'retry', delayMs: 0 },
      { action: 'retry', delayMs: 0 },
      { action: 'retry', delayMs: 100 },
      { action: 'retry', delayMs: 200 },
      { action: 'retry', delayMs: 400 },
      { action: 'dead-letter', reason: ErrorCodes.HANDLER_FAILED },
    ]);
  });

  it('dead-letters unrecoverable errors at once with their own code', () => {
    expect(defaultRecoverabilityPolicy(new UnrecoverableError('no'), 1, config)).toEqual({ action: 'dead-letter', reason: ErrorCodes.HANDLER_UNRECOVERABLE });
    const invalid = new MailroomError(ErrorCodes.CONTRACT_VALIDATION, 'bad', { unrecoverable: true });
    expect(defaultRecoverabilityPolicy(invalid, 1, config)).toEqual({ action: 'dead-letter', reason: ErrorCodes.CONTRACT_VALIDATION });
    expect(defaultRecoverabilityPolicy(new MailroomError(ErrorCodes.TRANSPORT_UNAVAILABLE, 'down'), 1, config)).toEqual({ action: 'retry', delayMs: 0 });
  });

  it('keeps jittered delays within ±jitter of the capped backoff', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 0.99, noNaN: true }),
        (round, jitter, r) => {
          const c = { ...defaultRecoverabilityConfig, jitter };
          const base = Math.min(c.maxDelayMs, c.initialDelayMs * c.factor ** (round - 1));
          const delay = backoffDelay(round, c, () => r);
          expect(delay).toBeGreaterThanOrEqual(Math.floor(base * (1 - jitter)) - 1);
          expect(delay).toBeLessThanOrEqual(c.maxDelayMs);
          expect(delay).toBeGreaterThanOrEqual(0);
        },
      ),
    );
  });

  it('totals 1 + immediate + delayed attempts with the defaults', () => {
    const c = defaultRecoverabilityConfig;
    let failed = 0;
    while (defaultRecoverabilityPolicy(new Error('x'), failed + 1, c).action === 'retry') failed++;
    expect(failed + 1).toBe(1 + c.immediateRetries + c.delayedRetries);
  });

  it('rejects bad settings naming the setting', () => {
    expect(() => resolveRecoverabilityConfig({ immediateRetries: -1 })).toThrow(/immediateRetries/);
    expect(() => resolveRecoverabilityConfig({ jitter: 2 })).toThrow(/jitter/);
    expect(() => resolveRecoverabilityConfig({ factor: 0.5 })).toThrow(expect.objectContaining({ code: ErrorCodes.ENDPOINT_CONFIG }));
  });
});
