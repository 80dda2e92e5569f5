/**
 * A counting semaphore for the deliveries of one subscription: at most `capacity` are held at
 * once (with handlers). Waiters are served first come, first served; `abort()` wakes every waiter
 * with `false`.
 */
export class Slots {
  private used = 0;
  private readonly waiters: ((granted: boolean) => void)[] = [];
  private aborted = false;

  constructor(private readonly capacity: number) {}

  /**
   * Holds a slot at once when one is free (then nobody waits: a released slot goes to a waiter
   * first); false when none is or the slots were aborted, and then nothing is held or queued.
   */
  tryAcquire(): boolean {
    if (this.aborted || this.used >= this.capacity) return false;
    this.used += 1;
    return true;
  }

  /** Resolves true once a slot is held, or false when the slots were aborted. */
  acquire(): Promise<boolean> {
    if (this.aborted) return Promise.resolve(false);
    if (this.tryAcquire()) return Promise.resolve(true);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Gives a slot back, handing it to the next waiter if any. */
  release(): void {
    const next = this.aborted ? undefined : this.waiters.shift();
    if (next) {
      next(true);
      return;
    }
    this.used = Math.max(0, this.used - 1);
  }

  /** Wakes every waiter with false; later `acquire` calls resolve false at once. */
  abort(): void {
    this.aborted = true;
    for (const waiter of this.waiters.splice(0)) waiter(false);
  }
}
