import { randomUUID } from 'node:crypto';
import { type Delivery, type DeliveryHandler, ErrorCodes, type FailureInfo, MailroomError, type SubscribeOptions, type Subscription } from '@mailroom/core';
import type { Statement } from 'better-sqlite3';
import type { BrokerConnection } from './sqlite-transport.js';
import { signalBrokerWrite } from './wake-signal.js';

interface ClaimedRow {
  seq: number;
  headers: string;
  body: Buffer;
  attempt: number;
  first_failure_at: number | null;
}

function flightKey(seq: number, token: string): string {
  return `${token}/${seq}`;
}

function settledError(message: string): MailroomError {
  return new MailroomError(ErrorCodes.TRANSPORT_SETTLED, message);
}

/**
 * One endpoint's consumer in one process: claims ready messages with a lease, hands them to the
 * handler, keeps at most `concurrency` unsettled, renews leases while handlers run, and releases
 * its leases on close. Woken by writes to the broker file; polls as a safety net and for delayed
 * messages.
 * @internal
 */
export class SqliteConsumer implements Subscription {
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
    'claim' | 'nextVisible' | 'ack' | 'retry' | 'deadLetter' | 'remove' | 'renew' | 'release' | 'heartbeat' | 'register' | 'unregister',
    Statement
  >;
  private batch = 0;
  private paused = false;
  private closed = false;
  private wakeScheduled = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private renewTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly connection: BrokerConnection,
    private readonly options: SubscribeOptions,
    private readonly handler: DeliveryHandler,
    private readonly onClose: () => void,
  ) {
    const { db } = connection;
    this.statements = {
      claim: db.prepare(
        `UPDATE mailroom_messages SET attempt = attempt + 1, visible_at = @leaseUntil, lease_token = @token
         WHERE seq IN (SELECT seq FROM mailroom_messages WHERE endpoint = @endpoint AND visible_at <= @now ORDER BY visible_at, seq LIMIT @limit)
         RETURNING seq, headers, body, attempt, first_failure_at`,
      ),
      nextVisible: db.prepare('SELECT MIN(visible_at) AS next FROM mailroom_messages WHERE endpoint = ? AND visible_at > ?').pluck(),
      ack: db.prepare('DELETE FROM mailroom_messages WHERE seq = ? AND lease_token = ?'),
      retry: db.prepare(
        `UPDATE mailroom_messages SET visible_at = @visibleAt, lease_token = NULL, first_failure_at = COALESCE(first_failure_at, @now)
         WHERE seq = @seq AND lease_token = @token`,
      ),
      deadLetter: db.prepare(
        `INSERT INTO mailroom_dead_letters (endpoint, message_id, type, headers, body, reason, error_message, error_stack, attempts, first_failure_at, last_failure_at, dead_lettered_at)
         SELECT endpoint, COALESCE(json_extract(headers, '$."ce-id"'), ''), COALESCE(json_extract(headers, '$."ce-type"'), ''), headers, body,
                @reason, @errorMessage, @errorStack, @attempts, @firstFailureAt, @lastFailureAt, @now
         FROM mailroom_messages WHERE seq = @seq AND lease_token = @token`,
      ),
      remove: db.prepare('DELETE FROM mailroom_messages WHERE seq = ? AND lease_token = ?'),
      renew: db.prepare('UPDATE mailroom_messages SET visible_at = @until WHERE lease_token IN (SELECT value FROM json_each(@tokens))'),
      release: db.prepare('UPDATE mailroom_messages SET visible_at = @now, lease_token = NULL WHERE lease_token IN (SELECT value FROM json_each(@tokens))'),
      heartbeat: db.prepare('UPDATE mailroom_consumers SET heartbeat_at = ? WHERE id = ?'),
      register: db.prepare('INSERT OR REPLACE INTO mailroom_consumers (id, endpoint, pid, heartbeat_at) VALUES (?, ?, ?, ?)'),
      unregister: db.prepare('DELETE FROM mailroom_consumers WHERE id = ? OR heartbeat_at < ?'),
    };
  }

  /** Registers the consumer, starts lease renewal and takes the first messages. */
  start(): void {
    const now = Date.now();
    this.statements.unregister.run('', now - 10 * SqliteConsumer.heartbeatMs);
    this.statements.register.run(this.id, this.options.endpoint, process.pid, now);
    const every = Math.min(this.connection.leaseMs / 3, SqliteConsumer.heartbeatMs);
    this.renewTimer = setInterval(() => this.renew(), every);
    this.renewTimer.unref();
    this.wake();
  }

  /** Schedules a claim on the next turn of the event loop (coalesced). */
  wake(): void {
    if (this.closed || this.paused || this.wakeScheduled) return;
    this.wakeScheduled = true;
    setImmediate(() => {
      this.wakeScheduled = false;
      this.poll();
    });
  }

  private poll(): void {
    if (this.closed || this.paused) return;
    const room = this.options.concurrency - this.inFlight.size;
    if (room <= 0) return;
    const now = Date.now();
    const token = `${this.id}:${++this.batch}`;
    let rows: ClaimedRow[];
    try {
      rows = this.statements.claim.all({ endpoint: this.options.endpoint, now, leaseUntil: now + this.connection.leaseMs, token, limit: room }) as ClaimedRow[];
    } catch (error) {
      this.connection.log.warn({ err: error, endpoint: this.options.endpoint }, 'claiming messages failed; trying again shortly');
      this.schedulePoll(Math.min(100, this.connection.pollIntervalMs));
      return;
    }
    rows.sort((a, b) => a.seq - b.seq);
    for (const row of rows) {
      this.inFlight.set(flightKey(row.seq, token), token);
      const delivery = this.delivery(row, token);
      try {
        void Promise.resolve(this.handler(delivery)).catch((error) => this.connection.log.error({ err: error }, 'delivery handler threw'));
      } catch (error) {
        this.connection.log.error({ err: error }, 'delivery handler threw');
      }
    }
    if (rows.length < room) {
      const next = this.statements.nextVisible.get(this.options.endpoint, now) as number | null;
      this.schedulePoll(next === null ? this.connection.pollIntervalMs : Math.max(0, Math.min(next - Date.now(), this.connection.pollIntervalMs)));
    } else {
      this.schedulePoll(this.connection.pollIntervalMs);
    }
  }

  private schedulePoll(delayMs: number): void {
    clearTimeout(this.pollTimer);
    if (this.closed || this.paused) return;
    this.pollTimer = setTimeout(() => this.wake(), delayMs);
  }

  private delivery(row: ClaimedRow, token: string): Delivery {
    const { seq } = row;
    return {
      headers: JSON.parse(row.headers) as Record<string, string>,
      body: new Uint8Array(row.body),
      attempt: row.attempt,
      firstFailureAt: row.first_failure_at === null ? undefined : new Date(row.first_failure_at),
      ack: () => this.settle(seq, token, () => this.statements.ack.run(seq, token).changes),
      retry: (delayMs: number, _failure: FailureInfo) =>
        this.settle(seq, token, () => {
          const now = Date.now();
          return this.statements.retry.run({ visibleAt: now + Math.max(0, delayMs), now, seq, token }).changes;
        }),
      deadLetter: (request) =>
        this.settle(seq, token, () => {
          const inserted = this.statements.deadLetter.run({
            reason: request.reason,
            errorMessage: request.errorMessage,
            errorStack: request.errorStack ?? null,
            attempts: request.attempts,
            firstFailureAt: request.firstFailureAt.getTime(),
            lastFailureAt: request.lastFailureAt.getTime(),
            now: Date.now(),
            seq,
            token,
          }).changes;
          if (inserted > 0) this.statements.remove.run(seq, token);
          return inserted;
        }),
    };
  }

  private async settle(seq: number, token: string, write: () => number): Promise<void> {
    if (!this.inFlight.delete(flightKey(seq, token))) throw settledError('This delivery was already settled or returned to the queue');
    const changed = await this.connection.writes.write(write);
    this.wake();
    if (changed === 0) throw settledError('The lease of this delivery had expired; another consumer may have it');
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
    clearInterval(this.renewTimer);
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
