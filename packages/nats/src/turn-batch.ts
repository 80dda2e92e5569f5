/**
 * Runs callbacks together at the end of the current turn of the event loop (`process.nextTick`
 * queued from a promise job runs once the microtask queue is empty), so that writes the client
 * would send one socket write each (it flushes its buffer in the first microtask after it filled)
 * go out in one. Nothing waits longer than the current turn.
 */
export class TurnBatch {
  private pending: (() => void)[] = [];

  /** Runs `callback` at the end of this turn, after the callbacks added before it. */
  add(callback: () => void): void {
    this.pending.push(callback);
    if (this.pending.length === 1) process.nextTick(() => this.run());
  }

  /** Runs the pending callbacks now (before a close, say). A callback that throws does not stop the others. */
  run(): void {
    const pending = this.pending;
    if (pending.length === 0) return;
    this.pending = [];
    for (const callback of pending) {
      try {
        callback();
      } catch {
        // The callbacks handle their own failures; one must not keep the others from running.
      }
    }
  }
}
