/** Options of a {@link Waker}. */
export interface WakerOptions {
  /**
   * The timer of a wait keeps the process alive, as a running loop must when nothing else does (a
   * relay alone in its process). Default false.
   */
  readonly keepAlive?: boolean;
}

/**
 * A wake-up signal one loop awaits between rounds of work, with a timeout (the safety-net poll).
 *
 * Guarantees: a {@link wake} while the loop does not wait is kept, so its next {@link wait} returns
 * at once (a wake-up is never lost between the loop's look at its work and its wait); any number
 * of wakes before a wait count as one; the timer of a wait never keeps the process alive (unless
 * {@link WakerOptions.keepAlive}) and is cleared when a wake ends the wait; {@link close} releases the waiter and makes later waits
 * return at once. A wait allocates its promise (and a timer when `ms` is finite); a wake allocates
 * nothing. One wait at a time: it belongs to one loop.
 */
export class Waker {
  private woken = false;
  private isClosed = false;
  private waiter: ((woken: boolean) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly timedOut = () => this.release(false);

  constructor(private readonly options: WakerOptions = {}) {}

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Ends the wait in progress, or, when none is, the next one. */
  wake(): void {
    if (this.waiter === undefined) this.woken = true;
    else this.release(true);
  }

  /**
   * Resolves `true` at a wake (at once when one came since the last wait, which it consumes) or at
   * {@link close} (at once after it), `false` after `ms` milliseconds without one (`Infinity`: no
   * timer). Throws when a wait is already in progress.
   */
  wait(ms: number): Promise<boolean> {
    if (this.waiter !== undefined) throw new Error('Waker: one wait at a time');
    if (this.isClosed) return Promise.resolve(true);
    if (this.woken) {
      this.woken = false;
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      this.waiter = resolve;
      if (Number.isFinite(ms)) {
        this.timer = setTimeout(this.timedOut, Math.max(0, ms));
        if (this.options.keepAlive !== true) this.timer.unref();
      }
    });
  }

  /** Drops a wake that came since the last wait; returns whether there was one. */
  take(): boolean {
    const woken = this.woken;
    this.woken = false;
    return woken;
  }

  /** Releases the waiter; later waits resolve at once. Idempotent. */
  close(): void {
    this.isClosed = true;
    this.release(true);
  }

  private release(woken: boolean): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.(woken);
  }
}
