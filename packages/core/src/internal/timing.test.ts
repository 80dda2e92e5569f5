import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoff, exponentialDelay, withTimeout } from './timing.js';

describe('exponentialDelay', () => {
  it('doubles from the initial delay per attempt and stops at the maximum', () => {
    expect([1, 2, 3, 4, 5].map((attempt) => exponentialDelay(attempt, 50, 500))).toEqual([50, 100, 200, 400, 500]);
    expect(exponentialDelay(0, 50, 500)).toBe(50);
    expect(exponentialDelay(10_000, 50, 500)).toBe(500);
  });
});

describe('backoff', () => {
  it('stays within 20 % of the exponential delay and never above the maximum', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 600_000 }), (attempt, initial, max) => {
        const delay = backoff(attempt, initial, max);
        const base = exponentialDelay(attempt, initial, max);
        expect(delay).toBeLessThanOrEqual(max);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(base * 0.8));
        expect(delay).toBeLessThanOrEqual(Math.ceil(base * 1.2));
      }),
    );
  });
});

describe('withTimeout', () => {
  it('settles as the promise when it is first, and with the timeout error when it is not', async () => {
    await expect(withTimeout(Promise.resolve(7), 1000, () => new Error('late'))).resolves.toBe(7);
    await expect(withTimeout(new Promise(() => {}), 5, () => new Error('late'))).rejects.toThrow('late');
    await expect(withTimeout(Promise.reject(new Error('own')), 1000, () => new Error('late'))).rejects.toThrow('own');
  });
});
