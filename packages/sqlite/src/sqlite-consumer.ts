import { randomUUID } from 'node:crypto';
import {
  DEFAULT_MAX_DELIVERIES,
  type DeadLetterRequest,
  type Delivery,
  type DeliveryHandler,
  type FailureInfo,
  type SubscribeOptions,
  type Subscription,
} from '@mailroom/core';
import { claimSettle, deliveryLimitRequest, LEASE_EXPIRED, plausibleDate, safeDeadLetterRequest, settledError, storedHeaders } from '@mailroom/core/internal';
import type { Statement } from 'better-sqlite3';
import type { BrokerConnection } from './broker-connection.js';
import { signalBrokerWrite } from './wake-signal.js';
import type { Claimer, WriteOptions } from './write-batcher.js';

interface ClaimedRow {
  seq: number;
  headers: string;
  body: Buffer;
  attempt: number;
  first_failure_at: number | null;
}

/** What one claim leased, handed over after its transaction committed. */
interface Claimed {
  readonly token: string;
  readonly rows: ClaimedRow[];
  /** When the claim ran. */
  readonly now: number;
  /** The next time a message of the endpoint becomes visible (null: none), when the claim took less than it had room for. */
  readonly next: number | null | undefined;
}

const ACK = { oneRow: true } as const;
const RETRY = { oneRow: true, addsMessages: true } as const;

/**
 * Copies a message row into the dead letters. Written so that it cannot fail on a row's content:
 * the id and type are read from the stored headers only when those are valid JSON holding text
 * there (else ''), and headers and body are copied as they are stored.
 */
const COPY_TO_DEAD_LETTERS = `INSERT INTO mailroom_dead_letters (endpoint, message_id, type, headers, body, reason, error_message, error_stack, attempts, first_failure_at, last_failure_at, dead_lettered_at)
  SELECT endpoint,
         CASE WHEN json_valid(headers) THEN CASE json_type(headers, '$."ce-id"') WHEN 'text' THEN json_extract(headers, '$."ce-id"') ELSE '' END ELSE '' END,
         CASE WHEN json_valid(headers) THEN CASE json_type(headers, '$."ce-type"') WHEN 'text' THEN json_extract(headers, '$."ce-type"') ELSE '' END ELSE '' END,
         headers, body, @reason, @errorMessage, @errorStack, @attempts, @firstFailureAt, @lastFailureAt, @now
  FROM mailroom_messages`;

/** The named parameters of {@link COPY_TO_DEAD_LETTERS} for a (safe) dead-letter request. */
function deadLetterParameters(request: DeadLetterRequest, now: number) {
  return {
    reason: request.reason,
    errorMessage: request.errorMessage,
    errorStack: request.errorStack ?? null,
    attempts: request.attempts,
    firstFailureAt: request.firstFailureAt.getTime(),
    lastFailureAt: request.lastFailureAt.getTime(),
    now,
  };
}

function flightKey(seq: number, token: string): string {
  return `${token}/${seq}`;
}

/**
 * One endpoint's consumer in one process: claims ready messages with a lease, hands them to the
 * handler, keeps at most `concurrency` unsettled, renews leases while handlers run, and releases
 * its leases on close. Its claims run in the connection's group commit ({@link WriteBatcher}),
 * after the writes of the same turn of the event loop: a claim that follows a publish or an
 * acknowledgement shares its commit. Woken by writes to the broker file; polls as a safety net and
 * for delayed messages.
 * @internal
 */
export class SqliteConsumer implements Subscription, Claimer {
  /** How often a live consumer refreshes its heartbeat row. */
  static readonly heartbeatMs = 5000;
  private readonly id = randomUUID();
  /**
   * Unsettled deliveries, by lease token and seq, to their lease token. Keyed by both: a message
   * whose lease ran out can be claimed again by this same consumer while its first handler still
   * runs, and both count against the concurrency until each is settled.
   */
  private readonly inFlight = new Map<string, string>();
  private readonly statements: Record<
    | 'ready'
    | 'lease'
    | 'nextVisible'
    | 'ack'
    | 'retry'
    | 'deadLetter'
    | 'remove'
    | 'park'
    | 'removeParked'
    | 'renew'
    | 'release'
    | 'giveBack'
    | 'heartbeat'
    | 'register'
    | 'unregister',
    Statement
  >;
  private readonly maxDeliveries: number;
  private batch = 0;
  private paused = false;
  private closed = false;
  private pollTimer: NodeJS.Timeout | undefined;
  /** When {@link pollTimer} fires (`Infinity` when none is set). */
  private pollAt = Number.POSITIVE_INFINITY;
  private renewTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly connection: BrokerConnection,
    private readonly options: SubscribeOptions,
    private readonly handler: DeliveryHandler,
    private readonly onClose: () => void,
  ) {
    const { db } = connection;
    this.statements = {
      // The claim runs in the group-commit transaction (BEGIN IMMEDIATE holds the file's write lock,
      // so no other process writes between these two statements): a SELECT of the ready rows, then
      // an UPDATE by key per row, cheaper than one UPDATE ... WHERE seq IN (SELECT ...) RETURNING.
      // `LIMIT CAST(? AS INTEGER)`, not `LIMIT ?`: SQLite (3.4x, as built by better-sqlite3) compiles
      // a bare LIMIT parameter as its bound value, so each new binding re-prepared the statement.
      ready: db.prepare(
        `SELECT seq, headers, body, attempt, first_failure_at FROM mailroom_messages
         WHERE endpoint = ? AND visible_at <= ? ORDER BY visible_at, seq LIMIT CAST(? AS INTEGER)`,
      ),
      lease: db.prepare('UPDATE mailroom_messages SET attempt = attempt + 1, visible_at = ?, lease_token = ? WHERE seq = ?'),
      nextVisible: db.prepare('SELECT MIN(visible_at) AS next FROM mailroom_messages WHERE endpoint = ? AND visible_at > ?').pluck(),
      ack: db.prepare('DELETE FROM mailroom_messages WHERE seq = ? AND lease_token = ?'),
      retry: db.prepare(
        `UPDATE mailroom_messages SET visible_at = @visibleAt, lease_token = NULL, first_failure_at = COALESCE(first_failure_at, @now)
         WHERE seq = @seq AND lease_token = @token`,
      ),
      deadLetter: db.prepare(`${COPY_TO_DEAD_LETTERS} WHERE seq = @seq AND lease_token = @token`),
      remove: db.prepare('DELETE FROM mailroom_messages WHERE seq = ? AND lease_token = ?'),
      // The delivery bound, inside the claim's transaction: the row is ready, so no lease to check.
      park: db.prepare(`${COPY_TO_DEAD_LETTERS} WHERE seq = @seq`),
      removeParked: db.prepare('DELETE FROM mailroom_messages WHERE seq = ?'),
      renew: db.prepare('UPDATE mailroom_messages SET visible_at = @until WHERE lease_token IN (SELECT value FROM json_each(@tokens))'),
      release: db.prepare('UPDATE mailroom_messages SET visible_at = @now, lease_token = NULL WHERE lease_token IN (SELECT value FROM json_each(@tokens))'),
      // Leased but never handed to the handler: back as they were, the attempt not counted.
      giveBack: db.prepare('UPDATE mailroom_messages SET visible_at = ?, lease_token = NULL, attempt = attempt - 1 WHERE lease_token = ?'),
      heartbeat: db.prepare('UPDATE mailroom_consumers SET heartbeat_at = ? WHERE id = ?'),
      register: db.prepare('INSERT OR REPLACE INTO mailroom_consumers (id, endpoint, pid, heartbeat_at) VALUES (?, ?, ?, ?)'),
      unregister: db.prepare('DELETE FROM mailroom_consumers WHERE id = ? OR heartbeat_at < ?'),
    };
    this.maxDeliveries = options.maxDeliveries ?? DEFAULT_MAX_DELIVERIES;
  }

  /** Registers the consumer, starts lease renewal and takes the first messages. */
  start(): void {
    const now = Date.now();
    this.statements.unregister.run('', now - 10 * SqliteConsumer.heartbeatMs);
    this.statements.register.run(this.id, this.options.endpoint, process.pid, now);
    const every = Math.min(this.connection.leaseMs / 3, SqliteConsumer.heartbeatMs);
    this.renewTimer = setInterval(() => this.renew(), every);
    this.renewTimer.unref();
    this.connection.writes.addClaimer(this);
    this.wake();
  }

  /** Asks for a claim in the next group commit (coalesced). */
  wake(): void {
    if (this.closed || this.paused) return;
    this.connection.writes.requestClaim(this);
  }

  /** Inside the group-commit transaction: leases up to the free slots' worth of ready messages. */
  claim(now: number): Claimed | undefined {
    if (this.closed || this.paused) return undefined;
    const room = this.options.concurrency - this.inFlight.size;
    if (room <= 0) return undefined;
    const token = `${this.id}:${++this.batch}`;
    const ready = this.statements.ready.all(this.options.endpoint, now, room) as ClaimedRow[];
    const leaseUntil = now + this.connection.leaseMs;
    const rows: ClaimedRow[] = [];
    for (const row of ready) {
      if (row.attempt + 1 > this.maxDeliveries) {
        this.park(row, now);
        continue;
      }
      this.statements.lease.run(leaseUntil, token, row.seq);
      row.attempt += 1;
      rows.push(row);
    }
    const next = rows.length < room ? (this.statements.nextVisible.get(this.options.endpoint, now) as number | null) : undefined;
    return { token, rows, now, next };
  }

  /** Moves a row delivered `maxDeliveries` times to the dead letters, in SQL alone: nothing in the row can make it fail. */
  private park(row: ClaimedRow, now: number): void {
    const request = deliveryLimitRequest(row.attempt + 1, this.maxDeliveries, plausibleDate(row.first_failure_at), new Date(now));
    this.statements.park.run({ ...deadLetterParameters(request, now), seq: row.seq });
    this.statements.removeParked.run(row.seq);
    this.connection.log.error(
      { code: request.reason, endpoint: this.options.endpoint, seq: row.seq, attempt: request.attempts },
      'message delivered more than maxDeliveries times: parked in the dead letters without running a handler',
    );
  }

  /** After the commit: counts the leased messages as unsettled and returns what hands them to the handler. */
  accept(claimed: unknown): (() => void) | undefined {
    const { token, rows, now, next } = claimed as Claimed;
    if (this.closed || this.paused) {
      if (rows.length > 0) this.giveBack(token);
      return undefined;
    }
    this.schedulePoll(typeof next === 'number' ? next - now : this.connection.pollIntervalMs);
    if (rows.length === 0) return undefined;
    for (const row of rows) this.inFlight.set(flightKey(row.seq, token), token);
    return () => {
      for (const row of rows) {
        // A handler may close the subscription: close() returned the rest of these to the queue.
        if (this.closed) return;
        try {
          void Promise.resolve(this.handler(this.delivery(row, token))).catch((error) => this.connection.log.error({ err: error }, 'delivery handler threw'));
        } catch (error) {
          this.connection.log.error({ err: error }, 'delivery handler threw');
        }
      }
    };
  }

  claimFailed(error: unknown): void {
    this.connection.log.warn({ err: error, endpoint: this.options.endpoint }, 'claiming messages failed; trying again shortly');
    this.schedulePoll(Math.min(100, this.connection.pollIntervalMs));
  }

  /** Returns messages this consumer leased but never handed out (paused in between). */
  private giveBack(token: string): void {
    try {
      this.statements.giveBack.run(Date.now(), token);
      signalBrokerWrite(this.connection.path);
    } catch (error) {
      this.connection.log.warn({ err: error }, 'could not return claimed messages; they return when their lease expires');
    }
  }

  /** Makes sure a claim runs within `delayMs` (the safety-net poll, or the next delayed message); an earlier timer is kept. */
  private schedulePoll(delayMs: number): void {
    if (this.closed || this.paused) return;
    const at = Date.now() + Math.max(0, Math.min(delayMs, this.connection.pollIntervalMs));
    if (this.pollTimer !== undefined && this.pollAt <= at) return;
    clearTimeout(this.pollTimer);
    this.pollAt = at;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      this.pollAt = Number.POSITIVE_INFINITY;
      this.wake();
    }, at - Date.now());
  }

  private delivery(row: ClaimedRow, token: string): Delivery {
    const { seq, body } = row;
    return {
      headers: storedHeaders(row.headers),
      // better-sqlite3 returns each blob in a buffer of its own: a view, not a copy.
      body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
      attempt: row.attempt,
      firstFailureAt: row.first_failure_at === null ? undefined : new Date(row.first_failure_at),
      ack: () => this.settle(seq, token, () => this.statements.ack.run(seq, token).changes, ACK),
      retry: (delayMs: number, _failure: FailureInfo) =>
        this.settle(
          seq,
          token,
          () => {
            const now = Date.now();
            return this.statements.retry.run({ visibleAt: now + Math.max(0, delayMs), now, seq, token }).changes;
          },
          RETRY,
        ),
      deadLetter: (request) =>
        this.settle(
          seq,
          token,
          () => {
            const inserted = this.statements.deadLetter.run({ ...deadLetterParameters(safeDeadLetterRequest(request), Date.now()), seq, token }).changes;
            if (inserted > 0) this.statements.remove.run(seq, token);
            return inserted;
          },
          undefined,
        ),
    };
  }

  private async settle(seq: number, token: string, write: () => number, options: WriteOptions | undefined): Promise<void> {
    claimSettle(this.inFlight, flightKey(seq, token));
    const written = this.connection.writes.write(write, options);
    // The slot is free: claim again in the same transaction, after this write.
    this.wake();
    if ((await written) === 0) throw settledError(LEASE_EXPIRED);
  }

  private renew(): void {
    if (this.closed) return;
    const tokens = JSON.stringify([...new Set(this.inFlight.values())]);
    const now = Date.now();
    this.connection.writes
      .write(() => {
        if (tokens !== '[]') this.statements.renew.run({ until: now + this.connection.leaseMs, tokens });
        this.statements.heartbeat.run(now, this.id);
      })
      .catch((error) => this.connection.log.warn({ err: error }, 'lease renewal failed'));
  }

  async pause(): Promise<void> {
    this.paused = true;
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
  }

  async close(): Promise<void> {
    this.release();
  }

  /** Stops for good and returns every unsettled delivery to the queue at once. Synchronous; idempotent. */
  release(): void {
    if (this.closed) return;
    this.closed = true;
    this.paused = true;
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    clearInterval(this.renewTimer);
    this.connection.writes.removeClaimer(this);
    const tokens = JSON.stringify([...new Set(this.inFlight.values())]);
    this.inFlight.clear();
    try {
      if (tokens !== '[]') this.statements.release.run({ now: Date.now(), tokens });
      this.statements.unregister.run(this.id, 0);
      signalBrokerWrite(this.connection.path);
    } catch (error) {
      this.connection.log.warn({ err: error }, 'could not release leases; they return when they expire');
    }
    this.onClose();
  }
}
