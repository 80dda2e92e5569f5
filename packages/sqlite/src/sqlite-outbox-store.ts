import { randomUUID } from 'node:crypto';
import {
  ErrorCodes,
  MailroomError,
  type OutboxClaim,
  type OutboxCounts,
  type OutboxMessage,
  type OutboxOutcome,
  type OutboxRecord,
  type OutboxStore,
} from '@mailroom/core';
import { assertPositiveInteger, type OutboxRow, orderingKeysOf, outboxRecordFromRow, selectInKeyOrder, unsentIdsByKey } from '@mailroom/core/internal';
import type { Database, Statement } from 'better-sqlite3';
import { runImmediate } from './run-immediate.js';
import { connectionLock } from './sqlite-connection-lock.js';
import type { SqliteTables } from './sqlite-tables.js';

/** Options of {@link SqliteOutboxStore}. */
export interface SqliteOutboxStoreOptions {
  database: Database;
  tables: SqliteTables;
  /**
   * How long a relay's claim holds its rows (the claim's `expiresAt`). A relay that dies leaves
   * them claimed until then; a live relay starts no publish in the last quarter of it and releases
   * the rows it did not reach. Default 30 000 ms.
   */
  leaseMs?: number;
}

type Statements = Record<'insert' | 'due' | 'candidates' | 'claimRow' | 'markSent' | 'markFailed' | 'release' | 'unsentOfKeys' | 'purge' | 'counts', Statement>;

const COLUMNS = 'id, route_kind, type, destination, headers, body, ordering_key, attempts, created_at, deliver_at';

/**
 * The outbox in SQLite. `add` inserts in the caller's transaction. `claim` marks due rows with a
 * lease (claim token and expiry) in a short `BEGIN IMMEDIATE` transaction, so relays of several
 * processes on one file never hold the same row while their leases run; a relay that dies leaves
 * its rows until the lease expires. `complete` only touches rows still leased to its claim.
 */
export class SqliteOutboxStore implements OutboxStore<Database> {
  private readonly db: Database;
  private readonly t: SqliteTables;
  private readonly leaseMs: number;
  private statements: Statements | undefined;

  constructor(options: SqliteOutboxStoreOptions) {
    this.db = options.database;
    this.t = options.tables;
    this.leaseMs = assertPositiveInteger(options.leaseMs ?? 30_000, 'SQLite outbox leaseMs');
  }

  async add(tx: Database, messages: readonly OutboxMessage[]): Promise<void> {
    if (tx !== this.db) throw new MailroomError(ErrorCodes.PERSISTENCE_CONFIG, 'SQLite outbox: tx must be the Database connection the store was created with');
    if (!tx.inTransaction) {
      throw new MailroomError(
        ErrorCodes.PERSISTENCE_NO_TRANSACTION,
        'SQLite outbox: messages must be added inside a transaction (endpoint.transaction, persistence.transaction or a handler)',
      );
    }
    const insert = this.prepared().insert;
    const now = Date.now();
    for (const message of messages) {
      const route = message.route;
      insert.run(
        route.kind,
        route.type,
        route.kind === 'command' ? route.destination : null,
        JSON.stringify(message.headers),
        Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength),
        message.orderingKey ?? null,
        now,
        now,
        message.deliverAt?.getTime() ?? null,
      );
    }
  }

  claim(limit: number): Promise<OutboxClaim> {
    return connectionLock(this.db).run(() => {
      const s = this.prepared();
      const now = Date.now();
      if (s.due.get({ now }) === undefined) return emptyClaim;
      const token = randomUUID();
      const records = runImmediate(this.db, () => {
        const candidates = (s.candidates.all({ now, limit }) as OutboxRow[]).map(outboxRecordFromRow);
        const selected = this.inKeyOrder(candidates);
        for (const record of selected) s.claimRow.run(token, now + this.leaseMs, Number(record.id));
        return selected;
      });
      if (records.length === 0) return emptyClaim;
      return { records, expiresAt: new Date(now + this.leaseMs), complete: (outcome: OutboxOutcome) => this.complete(token, records, outcome) };
    });
  }

  purgeSent(before: Date, limit: number): Promise<number> {
    return connectionLock(this.db).run(() => this.prepared().purge.run(before.getTime(), limit).changes);
  }

  counts(): Promise<OutboxCounts> {
    return connectionLock(this.db).run(() => {
      const row = this.prepared().counts.get() as { unsent: number | null; sent: number | null; oldest: number | null };
      return { unsent: row.unsent ?? 0, sent: row.sent ?? 0, oldestUnsentAt: row.oldest === null ? undefined : new Date(row.oldest) };
    });
  }

  private complete(token: string, records: readonly OutboxRecord[], outcome: OutboxOutcome): Promise<void> {
    return connectionLock(this.db).run(() => {
      const s = this.prepared();
      const now = Date.now();
      const settled = new Set([...outcome.sent, ...outcome.failed.map((f) => f.id)]);
      runImmediate(this.db, () => {
        for (const id of outcome.sent) s.markSent.run(now, Number(id), token);
        for (const failure of outcome.failed) s.markFailed.run(failure.error, failure.retryAt.getTime(), Number(failure.id), token);
        for (const record of records) if (!settled.has(record.id)) s.release.run(Number(record.id), token);
      });
    });
  }

  /** Keeps, per ordering key, only the run of candidates that starts at the key's oldest unsent row (claimed by anyone or not). */
  private inKeyOrder(candidates: OutboxRecord[]): OutboxRecord[] {
    const keys = orderingKeysOf(candidates);
    if (keys.length === 0) return candidates;
    const newest = Number(candidates[candidates.length - 1]?.id);
    const rows = this.prepared().unsentOfKeys.all(JSON.stringify(keys), newest) as { ordering_key: string; id: number }[];
    return selectInKeyOrder(candidates, unsentIdsByKey(rows));
  }

  private prepared(): Statements {
    const o = this.t.outbox;
    const dueWhere = 'sent_at IS NULL AND available_at <= @now AND (claimed_until IS NULL OR claimed_until <= @now)';
    this.statements ??= {
      insert: this.db.prepare(
        `INSERT INTO ${o} (route_kind, type, destination, headers, body, ordering_key, available_at, created_at, deliver_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      due: this.db.prepare(`SELECT 1 FROM ${o} WHERE ${dueWhere} LIMIT 1`),
      // A row whose key has an older row waiting for a retry or leased to another relay cannot go yet:
      // leaving it out keeps it from filling the batch and holding back the rows of other keys.
      candidates: this.db.prepare(
        `SELECT ${COLUMNS} FROM ${o} AS o WHERE ${dueWhere}
           AND (ordering_key IS NULL OR NOT EXISTS (
                 SELECT 1 FROM ${o} AS p
                  WHERE p.ordering_key = o.ordering_key AND p.sent_at IS NULL AND p.id < o.id
                    AND (p.available_at > @now OR p.claimed_until > @now)))
         ORDER BY id LIMIT @limit`,
      ),
      claimRow: this.db.prepare(`UPDATE ${o} SET claimed_by = ?, claimed_until = ? WHERE id = ?`),
      markSent: this.db.prepare(`UPDATE ${o} SET sent_at = ?, claimed_by = NULL, claimed_until = NULL WHERE id = ? AND claimed_by = ?`),
      markFailed: this.db.prepare(
        `UPDATE ${o} SET attempts = attempts + 1, last_error = ?, available_at = ?, claimed_by = NULL, claimed_until = NULL WHERE id = ? AND claimed_by = ?`,
      ),
      release: this.db.prepare(`UPDATE ${o} SET claimed_by = NULL, claimed_until = NULL WHERE id = ? AND claimed_by = ?`),
      unsentOfKeys: this.db.prepare(
        `SELECT ordering_key, id FROM ${o} WHERE sent_at IS NULL AND ordering_key IN (SELECT value FROM json_each(?)) AND id <= ? ORDER BY id`,
      ),
      purge: this.db.prepare(`DELETE FROM ${o} WHERE id IN (SELECT id FROM ${o} WHERE sent_at IS NOT NULL AND sent_at < ? LIMIT ?)`),
      counts: this.db.prepare(
        `SELECT sum(sent_at IS NULL) AS unsent, sum(sent_at IS NOT NULL) AS sent, min(CASE WHEN sent_at IS NULL THEN created_at END) AS oldest FROM ${o}`,
      ),
    };
    return this.statements;
  }
}

const emptyClaim: OutboxClaim = Object.freeze({ records: [], expiresAt: new Date(0), complete: async () => undefined });
