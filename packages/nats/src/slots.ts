/**
 * A counting semaphore for the deliveries of one subscription: at most `capacity` are held at
 * once. Waiters are served first come, first served; `abort()` wakes every waiter with `false`.
 */
export class Slots {
  private used = 0;
  private readonly waiters: ((granted: boolean) => void)[] = [];
  private readonly freeWatchers: ((free: boolean) => void)[] = [];
  private aborted = false;

  constructor(private readonly capacity: number) {}

  /** Slots neither held nor promised to a waiter: how many more messages could start at once (0 once aborted). */
  get free(): number {
    return this.aborted ? 0 : Math.max(0, this.capacity - this.used - this.waiters.length);
  }

  /** Resolves true once a slot is held, or false when the slots were aborted. */
  acquire(): Promise<boolean> {
    if (this.aborted) return Promise.resolve(false);
    if (this.used < this.capacity) {
      this.used += 1;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Resolves true as soon as a slot is free (at once if one is), or false when the slots were aborted. Holds nothing. */
  whenFree(): Promise<boolean> {
    if (this.aborted) return Promise.resolve(false);
    if (this.free > 0) return Promise.resolve(true);
    return new Promise((resolve) => this.freeWatchers.push(resolve));
  }

  /** Gives a slot back, handing it to the next waiter if any. */
  release(): void {
    const next = this.aborted ? undefined : this.waiters.shift();
    if (next) {
      next(true);
      return;
    }
    this.used = Math.max(0, this.used - 1);
    if (!this.aborted) for (const watcher of this.freeWatchers.splice(0)) watcher(true);
  }

  /** Wakes every waiter and watcher with false; later `acquire` and `whenFree` calls resolve false at once. */
  abort(): void {
    this.aborted = true;
    for (const waiter of this.waiters.splice(0)) waiter(false);
    for (const watcher of this.freeWatchers.splice(0)) watcher(false);
  }
}
