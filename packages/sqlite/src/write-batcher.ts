import type { Database } from 'better-sqlite3';

interface PendingWrite {
  run: () => unknown;
  addsMessages: boolean;
  oneRow: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

interface Result {
  ok: boolean;
  value: unknown;
}

interface Outcome {
  results: Result[];
  claims: Result[];
}

/**
 * A consumer that claims messages inside the group-commit transaction.
 * @internal
 */
export interface Claimer {
  /**
   * Runs inside the transaction, after every write of the batch (so it sees the messages they
   * added): leases what it may take and returns it, or `undefined` when it takes nothing now. Must
   * not call user code. Its statements run in a savepoint of their own.
   */
  claim(now: number): unknown;
  /**
   * After the commit (the leases are now durable): takes what {@link claim} returned and returns
   * what hands it to the handler. Every claimer of a transaction accepts before any handler runs,
   * so a handler closing a subscription finds all of its leases to return.
   */
  accept(claimed: unknown): (() => void) | undefined;
  /** The claim or its transaction failed: nothing was leased. */
  claimFailed(error: unknown): void;
}

/** What {@link WriteBatcher.write} may say about a write. */
export interface WriteOptions {
  /** The write can make messages ready (a publish, a retry, a replay): every consumer of this connection claims after it in the same transaction. */
  readonly addsMessages?: boolean;
  /**
   * The write is one statement changing at most one row by its key (an acknowledgement, a retry),
   * atomic by itself: it runs without a savepoint of its own.
   */
  readonly oneRow?: boolean;
}

/**
 * Group commit: writes requested during one turn of the event loop run in one `BEGIN IMMEDIATE`
 * transaction, each inside its own savepoint (or a single-row statement, atomic by itself) so one
 * failing write does not undo the others; an error that ends the transaction itself (SQLite rolls
 * it back, for example on a full disk) fails the whole batch. Each
 * promise resolves only after the transaction committed (durable per the connection's
 * `synchronous` setting), with its write's return value.
 *
 * Claims share the same commit: a consumer that asked to claim ({@link requestClaim}), and every
 * consumer when a write of the batch adds messages, runs its claim at the end of the transaction,
 * after all of the batch's writes; what it leased is handed to it only after the commit. One turn
 * of the event loop in which a message is published and the previous one acknowledged thus costs
 * one commit, claim included.
 */
export class WriteBatcher {
  private pending: PendingWrite[] = [];
  private scheduled = false;
  private readonly claimers = new Set<Claimer>();
  private readonly wanted = new Set<Claimer>();
  private readonly runOne: (write: () => unknown) => unknown;
  private readonly runAll: (writes: PendingWrite[], claimers: Claimer[]) => Outcome;

  constructor(
    db: Database,
    private readonly afterCommit: () => void,
    private readonly maxBatch = 1000,
  ) {
    this.runOne = db.transaction((write: () => unknown) => write());
    const transaction = db.transaction((writes: PendingWrite[], claimers: Claimer[]): Outcome => {
      const results = writes.map((write) => {
        try {
          return { ok: true, value: write.oneRow ? write.run() : this.runOne(write.run) };
        } catch (error) {
          // SQLite rolled the whole transaction back: what ran before is gone, and what follows would autocommit.
          if (!db.inTransaction) throw error;
          return { ok: false, value: error };
        }
      });
      const now = Date.now();
      const claims = claimers.map((claimer) => {
        try {
          return { ok: true, value: this.runOne(() => claimer.claim(now)) };
        } catch (error) {
          if (!db.inTransaction) throw error;
          return { ok: false, value: error };
        }
      });
      return { results, claims };
    });
    this.runAll = (writes, claimers) => transaction.immediate(writes, claimers);
  }

  /** Queues a write for the next group commit; resolves with its result after the commit. */
  write<T>(run: () => T, options?: WriteOptions): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({
        run,
        addsMessages: options?.addsMessages === true,
        oneRow: options?.oneRow === true,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      this.schedule();
    });
  }

  /** Registers a consumer whose claims run in this batcher's transactions. */
  addClaimer(claimer: Claimer): void {
    this.claimers.add(claimer);
  }

  removeClaimer(claimer: Claimer): void {
    this.claimers.delete(claimer);
    this.wanted.delete(claimer);
  }

  /** Asks for a claim by `claimer` in the next group commit (coalesced). */
  requestClaim(claimer: Claimer): void {
    if (!this.claimers.has(claimer)) return;
    this.wanted.add(claimer);
    this.schedule();
  }

  private schedule(): void {
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /**
   * Commits everything queued now, with the claims asked for. Writes and claims requested while
   * it runs (by handlers it starts) wait for the next turn, to be batched with the rest of that turn.
   */
  flush(): void {
    this.scheduled = false;
    const queued = this.pending;
    this.pending = [];
    if (queued.length <= this.maxBatch) this.commit(queued);
    else for (let start = 0; start < queued.length; start += this.maxBatch) this.commit(queued.slice(start, start + this.maxBatch));
  }

  private commit(batch: PendingWrite[]): void {
    if (batch.some((write) => write.addsMessages)) for (const claimer of this.claimers) this.wanted.add(claimer);
    if (batch.length === 0 && this.wanted.size === 0) return;
    const claimers = [...this.wanted];
    this.wanted.clear();
    let outcome: Outcome;
    try {
      outcome = this.runAll(batch, claimers);
    } catch (error) {
      for (const write of batch) write.reject(error);
      for (const claimer of claimers) claimer.claimFailed(error);
      return;
    }
    batch.forEach((write, i) => {
      const result = outcome.results[i] as Result;
      if (result.ok) write.resolve(result.value);
      else write.reject(result.value);
    });
    if (batch.length > 0) this.afterCommit();
    const handOver: (() => void)[] = [];
    claimers.forEach((claimer, i) => {
      const claim = outcome.claims[i] as Result;
      if (!claim.ok) claimer.claimFailed(claim.value);
      else if (claim.value !== undefined) {
        const start = claimer.accept(claim.value);
        if (start) handOver.push(start);
      }
    });
    for (const start of handOver) {
      try {
        start();
      } catch {
        // Each start guards its own handler calls; one that throws anyway must not keep the others from starting.
      }
    }
  }

  /** Rejects everything still queued (the connection is closing). */
  abort(error: Error): void {
    for (const write of this.pending.splice(0)) write.reject(error);
    this.wanted.clear();
  }
}
