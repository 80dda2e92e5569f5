import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PullBudget } from './pull-budget.js';

type Step = { kind: 'pull' } | { kind: 'arrive'; pull: number; extra: boolean } | { kind: 'settle' } | { kind: 'end'; pull: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.constant({ kind: 'pull' as const }),
  fc.record({ kind: fc.constant('arrive' as const), pull: fc.nat(), extra: fc.boolean() }),
  fc.constant({ kind: 'settle' as const }),
  fc.record({ kind: fc.constant('end' as const), pull: fc.nat() }),
);

describe('PullBudget', () => {
  it('asks for one message as soon as one fits, at most maxPull, and a second pull only once a quarter of the budget is free', () => {
    const budget = new PullBudget(8, 2, 5);
    expect(budget.wanted(0)).toBe(5);
    budget.opened(5);
    // 3 of 8 free, at least a quarter (2): a second pull may go; with 1 free it may not.
    expect(budget.wanted(0)).toBe(3);
    expect(budget.wanted(2)).toBe(0);
    budget.opened(3);
    // Two pulls open: no third, whatever is free.
    expect(budget.wanted(0)).toBe(0);
    budget.closed(3, 0);
    budget.closed(5, 0);
    expect(budget.outstanding).toBe(0);
    // With nothing open, one free place is enough.
    expect(budget.wanted(7)).toBe(1);
    expect(budget.wanted(8)).toBe(0);
  });

  it('never asks past the budget, never opens more than maxOpenPulls, and counts every asked message back (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 16 }),
        fc.array(step, { maxLength: 200 }),
        (size, maxOpenPulls, maxPull, steps) => {
          const budget = new PullBudget(size, maxOpenPulls, maxPull);
          const pulls: { wanted: number; received: number }[] = [];
          let held = 0;
          for (const s of steps) {
            if (s.kind === 'pull') {
              const wanted = budget.wanted(held);
              const credit = size - held - budget.outstanding;
              if (pulls.length === 0) expect(wanted > 0).toBe(credit >= 1);
              if (wanted === 0) continue;
              expect(wanted).toBeLessThanOrEqual(maxPull);
              expect(held + budget.outstanding + wanted).toBeLessThanOrEqual(size);
              if (pulls.length > 0) expect(credit).toBeGreaterThanOrEqual(Math.max(1, Math.floor(size / 4)));
              budget.opened(wanted);
              pulls.push({ wanted, received: 0 });
              expect(budget.openPulls).toBeLessThanOrEqual(maxOpenPulls);
            } else if (s.kind === 'arrive' && pulls.length > 0) {
              const pull = pulls[s.pull % pulls.length] as { wanted: number; received: number };
              // A reconnect may bring more than asked for; otherwise a pull brings at most what it asked.
              if (pull.received >= pull.wanted && !s.extra) continue;
              pull.received += 1;
              held += 1;
              budget.arrived(pull.received, pull.wanted);
            } else if (s.kind === 'settle' && held > 0) {
              held -= 1;
            } else if (s.kind === 'end' && pulls.length > 0) {
              const [pull] = pulls.splice(s.pull % pulls.length, 1) as [{ wanted: number; received: number }];
              budget.closed(pull.wanted, pull.received);
            }
            expect(budget.outstanding).toBeGreaterThanOrEqual(0);
            expect(budget.openPulls).toBe(pulls.length);
          }
          for (const pull of pulls.splice(0)) budget.closed(pull.wanted, pull.received);
          expect(budget.outstanding).toBe(0);
          expect(budget.openPulls).toBe(0);
        },
      ),
    );
  });
});
