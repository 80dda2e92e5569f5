import type { OutboxClaim, OutboxCounts, OutboxMessage, OutboxStore } from '@mailroom/core';
import type { PgQueryable } from './pg-client.js';
import type { PostgresTransport } from './postgres-transport.js';

const NOTHING: OutboxClaim = { records: [], expiresAt: new Date(8.64e15), complete: async () => undefined };

/**
 * The outbox of a service whose database also holds its PostgreSQL transport's tables: `add`
 * inserts the messages straight into the transport's queues inside the caller's transaction, so
 * they are delivered if and only if it commits, with no relay and no second write. It holds no row
 * of its own (`claim` finds nothing, `counts` is zero). `wake` notifies the consumers of the
 * endpoints written since the last wake: the persistence calls it right after each commit of its
 * own transactions; after a transaction you committed yourself, call `persistence.wake()`, or
 * consumers find the messages at their next poll.
 */
export class PostgresDirectOutbox implements OutboxStore<PgQueryable> {
  private written = new Set<string>();

  constructor(private readonly transport: PostgresTransport) {}

  async add(tx: PgQueryable, messages: readonly OutboxMessage[]): Promise<void> {
    for (const endpoint of await this.transport.enqueue(tx, messages)) this.written.add(endpoint);
  }

  wake(): void {
    if (this.written.size === 0) return;
    const endpoints = this.written;
    this.written = new Set();
    this.transport.wake(endpoints);
  }

  async claim(): Promise<OutboxClaim> {
    return NOTHING;
  }

  async purgeSent(): Promise<number> {
    return 0;
  }

  async counts(): Promise<OutboxCounts> {
    return { unsent: 0, sent: 0 };
  }
}
