/** The outcome of one item that failed while the rest of its batch went through: see {@link itemFailed}. */
class ItemFailure {
  constructor(readonly error: unknown) {}
}

export type { ItemFailure };

/**
 * Marks one item of a batch as failed: put it in the flush's results at that item's index, and that
 * item's submitter is rejected with `error` while the others get their own results.
 */
export function itemFailed(error: unknown): ItemFailure {
  return new ItemFailure(error);
}

/** What a flush returns: one result per item, in the order of the items; `void` when `R` is `void`. */
// biome-ignore lint/suspicious/noConfusingVoidType: a flush of items without a result returns nothing
export type BatchResults<R> = ArrayLike<R | ItemFailure> | (void extends R ? void : never);

/**
 * Writes one batch. Returns (or resolves with) one result per item, in order, {@link itemFailed}
 * for an item that failed alone; throwing or rejecting fails every item of this batch, and only
 * those. A flush returning nothing resolves every item with `undefined` (for `R` = `void`).
 */
export type BatchFlush<I, R> = (items: I[]) => BatchResults<R> | PromiseLike<BatchResults<R>>;

/** Options of a {@link TurnBatcher}. */
export interface TurnBatcherOptions<I> {
  /** Most items in one batch. Default: no limit. */
  readonly maxBatch?: number;
  /**
   * Most total weight of one batch (with {@link weigh}): a batch ends before the item that would
   * pass it, but always holds at least one item. Default: no limit.
   */
  readonly maxWeight?: number;
  /** The weight of an item (its bytes, say), for {@link maxWeight}. */
  readonly weigh?: (item: I) => number;
  /**
   * Most asynchronous flushes running at once; items submitted while all run wait and join the
   * batch flushed when one ends. Default: no limit.
   */
  readonly maxInFlight?: number;
  /**
   * When the items of a turn are flushed: `'immediate'` (default) in a `setImmediate`, after the
   * I/O callbacks of this turn, so what they submit joins the batch; `'tick'` in a
   * `process.nextTick`, as soon as the code that submitted the first item is done (a callback: when
   * it returns, before its promise jobs; a promise job: after the promise jobs of that moment), before
   * any I/O (for writes that must leave in this turn's socket write).
   */
  readonly when?: 'immediate' | 'tick';
  /** Receives the error of a batch whose items were all {@link TurnBatcher.add | added} without a promise (so no one else sees it). Default: ignored. */
  readonly onError?: (error: unknown) => void;
}

type Resolve = (value: unknown) => void;
type Reject = (error: unknown) => void;

/**
 * A per-turn batcher: collects the items submitted during one turn of the event loop (see
 * {@link TurnBatcherOptions.when}) and flushes them together, in batches of at most `maxBatch`
 * items and `maxWeight` weight, with at most `maxInFlight` flushes running.
 *
 * Guarantees: every item submitted is flushed exactly once, in submission order (batches too
 * start in that order); each {@link submit} promise settles with its own item's result, and a
 * failed flush (thrown or rejected) rejects exactly the items of that batch; items submitted while
 * a flush runs (by code it calls) go in a later batch, never the running one; the batcher itself
 * never leaves a rejection unhandled. No timer is used (one `setImmediate` or `nextTick` per
 * turn with items), and queuing an item allocates nothing beyond the submitter's promise.
 */
export class TurnBatcher<I, R = void> {
  private items: I[] = [];
  /** Per item, its promise's functions (`undefined` for an item {@link add | added} without one). */
  private resolves: (Resolve | undefined)[] = [];
  private rejects: (Reject | undefined)[] = [];
  private scheduled = false;
  private running = 0;
  private readonly maxBatch: number;
  private readonly maxWeight: number;
  private readonly maxInFlight: number;
  private readonly defer: (callback: () => void) => void;
  private readonly flushQueued = () => {
    this.scheduled = false;
    this.flush();
  };

  constructor(
    private readonly write: BatchFlush<I, R>,
    private readonly options: TurnBatcherOptions<I> = {},
  ) {
    this.maxBatch = options.maxBatch ?? Number.POSITIVE_INFINITY;
    this.maxWeight = options.weigh === undefined ? Number.POSITIVE_INFINITY : (options.maxWeight ?? Number.POSITIVE_INFINITY);
    this.maxInFlight = options.maxInFlight ?? Number.POSITIVE_INFINITY;
    this.defer = options.when === 'tick' ? process.nextTick : setImmediate;
  }

  /** Items queued and not flushed yet. */
  get pending(): number {
    return this.items.length;
  }

  /** Queues `item` for this turn's batch; resolves with its result after its batch was flushed, or rejects with its failure. */
  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.items.push(item);
      this.resolves.push(resolve as Resolve);
      this.rejects.push(reject);
      this.schedule();
    });
  }

  /** Queues `item` without a promise (its result is dropped; a failure of a batch no submitter sees goes to `onError`): for fire-and-forget writes. */
  add(item: I): void {
    this.items.push(item);
    this.resolves.push(undefined);
    this.rejects.push(undefined);
    this.schedule();
  }

  /**
   * Flushes what is queued now (before a close, say) instead of at the end of the turn, as far as
   * `maxInFlight` allows; the rest goes when a flush ends. Items submitted by the flushes it runs
   * wait for the next turn.
   */
  flush(): void {
    if (this.items.length === 0 || this.running >= this.maxInFlight) return;
    const items = this.items;
    const resolves = this.resolves;
    const rejects = this.rejects;
    this.items = [];
    this.resolves = [];
    this.rejects = [];
    let start = 0;
    while (start < items.length && this.running < this.maxInFlight) {
      const end = this.batchEnd(items, start);
      if (start === 0 && end === items.length) this.run(items, resolves, rejects);
      else this.run(items.slice(start, end), resolves.slice(start, end), rejects.slice(start, end));
      start = end;
    }
    if (start < items.length) {
      // Every flush slot is busy: the rest goes first when one is free.
      this.items = items.slice(start).concat(this.items);
      this.resolves = resolves.slice(start).concat(this.resolves);
      this.rejects = rejects.slice(start).concat(this.rejects);
    }
    this.schedule();
  }

  /** Rejects every item still queued with `error` (the owner is closing); flushes running finish. */
  abort(error: unknown): void {
    const rejects = this.rejects;
    this.items = [];
    this.resolves = [];
    this.rejects = [];
    for (const reject of rejects) reject?.(error);
  }

  private schedule(): void {
    if (this.scheduled || this.running >= this.maxInFlight || this.items.length === 0) return;
    this.scheduled = true;
    this.defer(this.flushQueued);
  }

  private batchEnd(items: readonly I[], start: number): number {
    const limit = Math.min(items.length, start + this.maxBatch);
    if (this.maxWeight === Number.POSITIVE_INFINITY) return limit;
    const weigh = this.options.weigh as (item: I) => number;
    let weight = weigh(items[start] as I);
    let end = start + 1;
    while (end < limit) {
      weight += weigh(items[end] as I);
      if (weight > this.maxWeight) break;
      end += 1;
    }
    return end;
  }

  private run(items: I[], resolves: (Resolve | undefined)[], rejects: (Reject | undefined)[]): void {
    let results: BatchResults<R> | PromiseLike<BatchResults<R>>;
    this.running += 1;
    try {
      results = this.write(items);
    } catch (error) {
      this.running -= 1;
      this.fail(rejects, error);
      return;
    }
    if (results !== undefined && typeof (results as PromiseLike<unknown>).then === 'function') {
      (results as PromiseLike<BatchResults<R>>).then(
        (settled) => this.done(resolves, rejects, settled),
        (error: unknown) => {
          this.running -= 1;
          this.fail(rejects, error);
          this.schedule();
        },
      );
      return;
    }
    this.running -= 1;
    this.settle(resolves, rejects, results as BatchResults<R>);
  }

  private done(resolves: (Resolve | undefined)[], rejects: (Reject | undefined)[], results: BatchResults<R>): void {
    this.running -= 1;
    this.settle(resolves, rejects, results);
    this.schedule();
  }

  private settle(resolves: (Resolve | undefined)[], rejects: (Reject | undefined)[], results: BatchResults<R>): void {
    const list = results as ArrayLike<unknown> | undefined;
    for (let i = 0; i < resolves.length; i++) {
      const result = list === undefined ? undefined : list[i];
      if (result instanceof ItemFailure) rejects[i]?.(result.error);
      else if (list !== undefined && i >= list.length) rejects[i]?.(new Error(`A batch flush returned ${list.length} results for ${resolves.length} items`));
      else resolves[i]?.(result);
    }
  }

  private fail(rejects: (Reject | undefined)[], error: unknown): void {
    let seen = false;
    for (const reject of rejects) {
      if (reject === undefined) continue;
      seen = true;
      reject(error);
    }
    if (seen || this.options.onError === undefined) return;
    try {
      this.options.onError(error);
    } catch {
      // A throwing error handler must not turn into an unhandled rejection.
    }
  }
}
