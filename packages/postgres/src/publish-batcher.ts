import type { OutgoingMessage } from '@mailroom/core';
import { isConnectionError } from './database-errors.js';
import { addMessage, emptyColumns, type MessageColumns } from './message-columns.js';

interface Pending {
  readonly row: MessageColumns;
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Limits of one batch statement. */
export interface PublishBatchLimits {
  /** Most batch statements in flight at once; publishes wait for a free one and join the next batch. Default 4. */
  readonly maxInFlight?: number;
  /** Most messages per statement. Default 500. */
  readonly maxMessages?: number;
  /** Most body and header bytes per statement (a single larger message goes alone). Default 8 MiB. */
  readonly maxBytes?: number;
}

/**
 * Group commit for publishes: the messages published during one turn of the event loop (and while
 * every statement slot is busy) go to the database in one statement, so in one commit. Each
 * publish resolves only after its statement committed and rejects when it failed; when a batch
 * statement is refused for a reason other than the connection, its messages are tried one per
 * statement, so one message the database refuses never takes the others down with it.
 */
export class PublishBatcher {
  private queue: Pending[] = [];
  private scheduled = false;
  private running = 0;
  private readonly maxInFlight: number;
  private readonly maxMessages: number;
  private readonly maxBytes: number;

  constructor(
    private readonly send: (columns: MessageColumns) => Promise<void>,
    limits: PublishBatchLimits = {},
  ) {
    this.maxInFlight = limits.maxInFlight ?? 4;
    this.maxMessages = limits.maxMessages ?? 500;
    this.maxBytes = limits.maxBytes ?? 8 * 1024 * 1024;
  }

  /** Queues a message for the next batch; throws at once for a message that cannot be stored (see `addMessage`). */
  publish(message: OutgoingMessage): Promise<void> {
    const row = emptyColumns();
    addMessage(row, message);
    const bytes = (row[3][0]?.byteLength ?? 0) + (row[2][0]?.length ?? 0);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ row, bytes, resolve, reject });
      this.schedule();
    });
  }

  /** Rejects every publish not yet sent (the transport is closing); statements in flight finish. */
  abort(error: Error): void {
    for (const pending of this.queue.splice(0)) pending.reject(error);
  }

  private schedule(): void {
    if (this.scheduled || this.running >= this.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0 && this.running < this.maxInFlight) {
      let count = 0;
      let bytes = 0;
      while (count < this.queue.length && count < this.maxMessages) {
        const next = (this.queue[count] as Pending).bytes;
        if (count > 0 && bytes + next > this.maxBytes) break;
        bytes += next;
        count += 1;
      }
      const batch = this.queue.splice(0, count);
      this.running += 1;
      void this.sendBatch(batch).finally(() => {
        this.running -= 1;
        this.schedule();
      });
    }
  }

  private async sendBatch(batch: Pending[]): Promise<void> {
    const columns = emptyColumns();
    for (const { row } of batch) for (let c = 0; c < columns.length; c++) (columns[c] as unknown[]).push(row[c]?.[0]);
    try {
      await this.send(columns);
    } catch (error) {
      if (batch.length > 1 && !isConnectionError(error)) {
        await Promise.all(batch.map((pending) => this.sendBatch([pending])));
        return;
      }
      for (const pending of batch) pending.reject(error);
      return;
    }
    for (const pending of batch) pending.resolve();
  }
}
