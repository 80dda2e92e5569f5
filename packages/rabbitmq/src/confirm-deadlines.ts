/** Something with a time by which it must be looked at again. */
export interface Deadlined {
  /** Epoch milliseconds at which {@link check} is due. */
  readonly checkAt: number;
  /**
   * Called at or after `checkAt` (never before): either settles the item and removes it from the
   * {@link DeadlineSweep}, or moves `checkAt` later to be called again then.
   */
  check(now: number): void;
}

/**
 * One timer for many deadlines, instead of a `setTimeout` and a `clearTimeout` per item: items are
 * added and removed in O(1) (a `Set`), and the one timer is set for the earliest `checkAt` of
 * those held. When it fires, every item that is due is checked and the timer set again for the
 * earliest one left. Guarantee: each item's `check` runs no earlier than its `checkAt` and, the
 * event loop permitting, no later than the timer set for the earliest due time, as a timer per item
 * would; no timer is left once the set is empty (it does not keep the process alive for nothing).
 *
 * Why: a publisher has up to `maxUnconfirmed` publishes awaiting their confirm, each with a confirm
 * deadline that almost never passes; a timer per publish is an allocation, an insertion and a
 * removal in Node's timer lists per message, where the sweep costs a `Set` add and delete.
 */
export class DeadlineSweep<T extends Deadlined> {
  private readonly items = new Set<T>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;

  /** Watches `item` until {@link remove}d. */
  add(item: T): void {
    this.items.add(item);
    if (item.checkAt < this.timerAt) this.schedule(item.checkAt);
  }

  /** Stops watching `item`; the timer goes once nothing is watched. */
  remove(item: T): void {
    this.items.delete(item);
    if (this.items.size === 0) this.cancel();
  }

  private schedule(at: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.sweep(), Math.max(0, at - Date.now()));
  }

  private cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  private sweep(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    for (const item of this.items) {
      if (item.checkAt <= now) item.check(now); // removes the item or moves its checkAt later
      if (this.items.has(item) && item.checkAt < next) next = item.checkAt;
    }
    if (next !== Number.POSITIVE_INFINITY && this.timer === undefined) this.schedule(next);
  }
}
