import type { OutboxClaim, OutboxCounts, OutboxMessage, OutboxOutcome, OutboxRecord, OutboxStore } from '@mailroom/core';
import { assertPositiveInteger, type OutboxRow, orderingKeysOf, outboxRecordFromRow, selectInKeyOrder, unsentIdsByKey } from '@mailroom/core/internal';
import { lockOrderingKeys } from './ordering-locks.js';
import type { PgPool, PgPoolClient, PgQueryable } from './pg-client.js';
import { checkout, releaseClient, rollback } from './pg-transaction.js';
import type { PostgresTables } from './postgres-tables.js';

/** Options of {@link PostgresOutboxStore}. */
export interface PostgresOutboxStoreOptions {
  pool: PgPool;
  tables: PostgresTables;
  /**
   * Longest a relay may hold a claim (its transaction stays open while it publishes). PostgreSQL
   * ends a claiming session idle longer than this, freeing its rows for another relay; a live relay
   * starts no publish in the last quarter of it and releases the rows it did not reach. Default 60 000 ms.
   */
  claimTimeoutMs?: number;
}

const INSERT_CHUNK = 1000;

/**
 * The outbox in PostgreSQL. `add` inserts in the caller's transaction; for ordering keys it first
 * takes a transaction-scoped advisory lock per key, so transactions publishing under one key commit
 * in the order they wrote. `claim` locks due rows with `FOR UPDATE SKIP LOCKED` in a transaction
 * that stays open while the relay publishes: concurrent relays skip them, and when the relay dies
 * its connection drops and the rows are free again at once.
 */
export class PostgresOutboxStore implements OutboxStore<PgQueryable> {
  private readonly pool: PgPool;
  private readonly t: PostgresTables;
  private readonly claimTimeoutMs: number;

  constructor(options: PostgresOutboxStoreOptions) {
    this.pool = options.pool;
    this.t = options.tables;
    this.claimTimeoutMs = assertPositiveInteger(options.claimTimeoutMs ?? 60_000, 'PostgreSQL claimTimeoutMs');
  }

  async add(tx: PgQueryable, messages: readonly OutboxMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await lockOrderingKeys(tx, this.t.outbox, messages);
    for (let start = 0; start < messages.length; start += INSERT_CHUNK) {
      const chunk = messages.slice(start, start + INSERT_CHUNK);
      const values: unknown[] = [];
      const tuples = chunk.map((message) => {
        const route = message.route;
        values.push(
          route.kind,
          route.type,
          route.kind === 'command' ? route.destination : null,
          JSON.stringify(message.headers),
          message.body,
          message.orderingKey ?? null,
          message.deliverAt ?? null,
        );
        const n = values.length;
        return `($${n - 6}, $${n - 5}, $${n - 4}, $${n - 3}, $${n - 2}, $${n - 1}, $${n}::timestamptz)`;
      });
      await tx.query(
        `INSERT INTO ${this.t.outbox} (route_kind, type, destination, headers, body, ordering_key, deliver_at) VALUES ${tuples.join(', ')}`,
        values,
      );
    }
  }

  async claim(limit: number): Promise<OutboxClaim> {
    const client = await checkout(this.pool);
    try {
      await client.query('BEGIN');
      // The server ends the session once it has been idle this long after the claim's last query,
      // which starts later than now: the claim expires no earlier than this.
      const expiresAt = new Date(Date.now() + this.claimTimeoutMs);
      await client.query(`SET LOCAL idle_in_transaction_session_timeout = ${this.claimTimeoutMs}`);
      const { rows } = await client.query<OutboxRow>(
        `SELECT o.seq::text AS id, o.route_kind, o.type, o.destination, o.headers, o.body, o.ordering_key, o.attempts, o.created_at, o.deliver_at
           FROM ${this.t.outbox} AS o
          WHERE o.sent_at IS NULL AND o.available_at <= now()
            AND (o.ordering_key IS NULL OR NOT EXISTS (
                  SELECT 1 FROM ${this.t.outbox} AS p
                   WHERE p.ordering_key = o.ordering_key AND p.sent_at IS NULL AND p.seq < o.seq AND p.available_at > now()))
          ORDER BY o.seq
          LIMIT $1
          FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      const candidates = rows.map(outboxRecordFromRow);
      const records = await this.inKeyOrder(client, candidates);
      if (records.length === 0) {
        await client.query('COMMIT');
        releaseClient(client);
        return { records, expiresAt, complete: async () => undefined };
      }
      return { records, expiresAt, complete: (outcome) => this.complete(client, outcome) };
    } catch (error) {
      await rollback(client);
      throw error;
    }
  }

  async purgeSent(before: Date, limit: number): Promise<number> {
    const { rowCount } = await this.pool.query(
      `DELETE FROM ${this.t.outbox} WHERE seq IN (
         SELECT seq FROM ${this.t.outbox} WHERE sent_at IS NOT NULL AND sent_at < $1 ORDER BY sent_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      [before, limit],
    );
    return rowCount ?? 0;
  }

  async counts(): Promise<OutboxCounts> {
    const { rows } = await this.pool.query<{ unsent: string; sent: string; oldest: Date | null }>(
      `SELECT count(*) FILTER (WHERE sent_at IS NULL) AS unsent, count(*) FILTER (WHERE sent_at IS NOT NULL) AS sent,
              min(created_at) FILTER (WHERE sent_at IS NULL) AS oldest FROM ${this.t.outbox}`,
    );
    const oldest = rows[0]?.oldest ?? null;
    return { unsent: Number(rows[0]?.unsent ?? 0), sent: Number(rows[0]?.sent ?? 0), oldestUnsentAt: oldest === null ? undefined : new Date(oldest) };
  }

  /** Keeps, per ordering key, only the run of candidates that starts at the key's oldest unsent row. */
  private async inKeyOrder(client: PgQueryable, candidates: OutboxRecord[]): Promise<OutboxRecord[]> {
    const keys = orderingKeysOf(candidates);
    if (keys.length === 0) return candidates;
    const newest = candidates[candidates.length - 1]?.id as string;
    const { rows } = await client.query<{ ordering_key: string; id: string }>(
      `SELECT o.ordering_key, o.seq::text AS id FROM ${this.t.outbox} AS o
        WHERE o.sent_at IS NULL AND o.ordering_key = ANY($1::text[]) AND o.seq <= $2::bigint
        ORDER BY o.seq`,
      [keys, newest],
    );
    return selectInKeyOrder(candidates, unsentIdsByKey(rows));
  }

  private async complete(client: PgPoolClient, outcome: OutboxOutcome): Promise<void> {
    try {
      if (outcome.sent.length > 0) {
        await client.query(`UPDATE ${this.t.outbox} SET sent_at = now() WHERE seq = ANY($1::bigint[])`, [outcome.sent]);
      }
      if (outcome.failed.length > 0) {
        await client.query(
          `UPDATE ${this.t.outbox} AS o SET attempts = o.attempts + 1, last_error = f.error, available_at = f.retry_at
             FROM unnest($1::bigint[], $2::text[], $3::timestamptz[]) AS f(seq, error, retry_at)
            WHERE o.seq = f.seq`,
          [outcome.failed.map((f) => f.id), outcome.failed.map((f) => f.error), outcome.failed.map((f) => f.retryAt)],
        );
      }
      await client.query('COMMIT');
    } catch (error) {
      await rollback(client);
      throw error;
    }
    releaseClient(client);
  }
}
