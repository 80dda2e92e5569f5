import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Deadlined, DeadlineSweep } from './confirm-deadlines.js';

/** An item that records its checks and, when due, either settles (removes itself) or moves on by `moveBy` once. */
class Item implements Deadlined {
  readonly checks: number[] = [];
  constructor(
    private readonly sweep: DeadlineSweep<Item>,
    public checkAt: number,
    private moveBy = 0,
  ) {}
  check(now: number): void {
    this.checks.push(now);
    if (this.moveBy > 0) {
      this.checkAt = now + this.moveBy;
      this.moveBy = 0;
      return;
    }
    this.sweep.remove(this);
  }
}

describe('DeadlineSweep', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('checks each item no earlier than its due time, earliest first added or not, and again when it moved its time', () => {
    vi.useFakeTimers({ now: 1_000 });
    const sweep = new DeadlineSweep<Item>();
    const late = new Item(sweep, 1_500);
    const early = new Item(sweep, 1_200); // added after a later one: the timer moves earlier
    const moving = new Item(sweep, 1_300, 400);
    sweep.add(late);
    sweep.add(early);
    sweep.add(moving);
    vi.advanceTimersByTime(199);
    expect(early.checks).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(early.checks).toEqual([1_200]);
    vi.advanceTimersByTime(100);
    expect(moving.checks).toEqual([1_300]);
    expect(late.checks).toEqual([]);
    vi.advanceTimersByTime(200);
    expect(late.checks).toEqual([1_500]);
    vi.advanceTimersByTime(200);
    expect(moving.checks).toEqual([1_300, 1_700]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('leaves no timer once nothing is watched, and never checks a removed item', () => {
    vi.useFakeTimers({ now: 0 });
    const sweep = new DeadlineSweep<Item>();
    const items = [new Item(sweep, 100), new Item(sweep, 200)];
    for (const item of items) sweep.add(item);
    expect(vi.getTimerCount()).toBe(1);
    sweep.remove(items[0] as Item);
    expect(vi.getTimerCount()).toBe(1);
    sweep.remove(items[1] as Item);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1_000);
    expect(items.map((item) => item.checks.length)).toEqual([0, 0]);
  });
});
