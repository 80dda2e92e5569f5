import type { InboxStore } from '@mailroom/core';
import type { PgPool, PgQueryable } from './pg-client.js';
import type { PostgresTables } from './postgres-tables.js';

/**
 * The inbox in PostgreSQL: one row per (endpoint, message id), inserted in the handler's
 * transaction with `ON CONFLICT DO NOTHING`. A concurrent insert of the same key waits for the
 * first transaction: it sees a duplicate when that commits, and inserts when it rolls back.
 */
export class PostgresInboxStore implements InboxStore<PgQueryable> {
  constructor(
    private readonly pool: PgPool,
    private readonly tables: PostgresTables,
  ) {}

  async record(tx: PgQueryable, endpoint: string, messageId: string): Promise<boolean> {
    const { rowCount } = await tx.query(`INSERT INTO ${this.tables.inbox} (endpoint, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [
      endpoint,
      messageId,
    ]);
    return rowCount === 1;
  }

  async has(endpoint: string, messageId: string): Promise<boolean> {
    const { rows } = await this.pool.query(`SELECT 1 FROM ${this.tables.inbox} WHERE endpoint = $1 AND message_id = $2`, [endpoint, messageId]);
    return rows.length > 0;
  }

  async purge(before: Date, limit: number): Promise<number> {
    const { rowCount } = await this.pool.query(
      `DELETE FROM ${this.tables.inbox} WHERE (endpoint, message_id) IN (
         SELECT endpoint, message_id FROM ${this.tables.inbox} WHERE processed_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      [before, limit],
    );
    return rowCount ?? 0;
  }
}
