import type { OutgoingMessage } from '@mailroom/core';
import { type BatchResults, itemFailed, TurnBatcher } from '@mailroom/core/internal';
import { isConnectionError } from './database-errors.js';
import { addMessage, emptyColumns, type MessageColumns } from './message-columns.js';

/** Limits of one batch statement. */
export interface PublishBatchLimits {
  /** Most batch statements in flight at once; publishes wait for a free one and join the next batch. Default 4. */
  readonly maxInFlight?: number;
  /** Most messages per statement. Default 500. */
  readonly maxMessages?: number;
  /** Most body and header bytes per statement (a single larger message goes alone). Default 8 MiB. */
  readonly maxBytes?: number;
}

/** The body and header bytes of a one-message row. */
function rowBytes(row: MessageColumns): number {
  return (row[3][0]?.byteLength ?? 0) + (row[2][0]?.length ?? 0);
}

/**
 * Group commit for publishes: the messages published during one turn of the event loop (and while
 * every statement slot is busy) go to the database in one statement, so in one commit, batched by
 * the core {@link TurnBatcher}. Each publish resolves only after its statement committed and
 * rejects when it failed; when a batch statement is refused for a reason other than the
 * connection, its messages are tried one per statement, so one message the database refuses never
 * takes the others down with it.
 */
export class PublishBatcher {
  private readonly batcher: TurnBatcher<MessageColumns>;

  constructor(
    private readonly send: (columns: MessageColumns) => Promise<void>,
    limits: PublishBatchLimits = {},
  ) {
    this.batcher = new TurnBatcher((rows) => this.sendBatch(rows), {
      maxInFlight: limits.maxInFlight ?? 4,
      maxBatch: limits.maxMessages ?? 500,
      maxWeight: limits.maxBytes ?? 8 * 1024 * 1024,
      weigh: rowBytes,
    });
  }

  /** Queues a message for the next batch; throws at once for a message that cannot be stored (see `addMessage`). */
  publish(message: OutgoingMessage): Promise<void> {
    const row = emptyColumns();
    addMessage(row, message);
    return this.batcher.submit(row);
  }

  /** Rejects every publish not yet sent (the transport is closing); statements in flight finish. */
  abort(error: Error): void {
    this.batcher.abort(error);
  }

  private async sendBatch(rows: MessageColumns[]): Promise<BatchResults<void>> {
    const columns = emptyColumns();
    for (const row of rows) for (let c = 0; c < columns.length; c++) (columns[c] as unknown[]).push(row[c]?.[0]);
    try {
      await this.send(columns);
      return undefined;
    } catch (error) {
      if (rows.length === 1 || isConnectionError(error)) throw error;
    }
    return Promise.all(rows.map((row) => this.send(row).then(() => undefined, itemFailed)));
  }
}
