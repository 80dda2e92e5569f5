import type { Database } from 'better-sqlite3';

interface PendingWrite {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: writes requested during one turn of the event loop run in one `BEGIN IMMEDIATE`
 * transaction, each inside its own savepoint so one failing write does not undo the others. Each
 * promise resolves only after the transaction committed (durable per the connection's
 * `synchronous` setting), with its write's return value.
 */
export class WriteBatcher {
  private pending: PendingWrite[] = [];
  private scheduled = false;
  private readonly runOne: (write: () => unknown) => unknown;
  private readonly runAll: (writes: PendingWrite[]) => unknown[];

  constructor(
    db: Database,
    private readonly afterCommit: () => void,
    private readonly maxBatch = 1000,
  ) {
    this.runOne = db.transaction((write: () => unknown) => write());
    const all = db.transaction((writes: PendingWrite[]) =>
      writes.map((write) => {
        try {
          return { ok: true, value: this.runOne(write.run) };
        } catch (error) {
          return { ok: false, value: error };
        }
      }),
    );
    this.runAll = (writes) => all.immediate(writes);
  }

  /** Queues a write for the next group commit; resolves with its result after the commit. */
  write<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ run, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits everything queued now. */
  flush(): void {
    this.scheduled = false;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      let results: unknown[];
      try {
        results = this.runAll(batch);
      } catch (error) {
        for (const write of batch) write.reject(error);
        continue;
      }
      batch.forEach((write, i) => {
        const result = results[i] as { ok: boolean; value: unknown };
        if (result.ok) write.resolve(result.value);
        else write.reject(result.value);
      });
      this.afterCommit();
    }
  }

  /** Rejects everything still queued (the connection is closing). */
  abort(error: Error): void {
    for (const write of this.pending.splice(0)) write.reject(error);
  }
}
