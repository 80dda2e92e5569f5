import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  DEFAULT_MAX_DELIVERIES,
  type DeadLetterRequest,
  type Delivery,
  type DeliveryHandler,
  type Logger,
  type SubscribeOptions,
  type Subscription,
} from '@mailroom/core';
import {
  claimSettle,
  deliveryLimitRequest,
  exponentialDelay,
  LEASE_EXPIRED,
  plausibleDate,
  safeDeadLetterRequest,
  settledError,
  storedHeaders,
} from '@mailroom/core/internal';
import type { BrokerStatements } from './broker-statements.js';
import { pgText } from './message-columns.js';
import type { PgTransportPool } from './pg-client.js';
import type { SettleBatcher } from './settle-batcher.js';

/** What a consumer needs from its transport. @internal */
export interface ConsumerConnection {
  readonly pool: PgTransportPool;
  readonly statements: BrokerStatements;
  readonly settles: SettleBatcher;
  readonly leaseMs: number;
  readonly pollIntervalMs: number;
  readonly log: Logger;
}

interface ClaimedRow {
  seq: string | null;
  headers: string;
  body: Buffer;
  attempt: number;
  first_failure_at: Date | number | null;
  next_ms: number | null;
}

/** How long closing waits for the database to take the leases back before leaving them to expire. */
const CLOSE_WAIT_MS = 2000;

/** Resolves when `work` settles or after `ms`, whichever is first; never rejects. */
export async function boundedWait(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work.catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** The failure details of a dead-letter statement: texts PostgreSQL can store, whatever the request held. */
export function deadLetterDetails(request: DeadLetterRequest): unknown[] {
  const safe = safeDeadLetterRequest(request);
  return [
    pgText(safe.reason),
    pgText(safe.errorMessage),
    safe.errorStack === undefined ? null : pgText(safe.errorStack),
    safe.attempts,
    safe.firstFailureAt,
    safe.lastFailureAt,
  ];
}

/**
 * One endpoint's consumer in one process: leases ready messages (`FOR UPDATE SKIP LOCKED`, so
 * competing consumers in any process never get the same row), hands them to the handler, keeps at
 * most `concurrency` unsettled, renews the leases while handlers run, and gives the leases back on
 * close. One claim runs at a time; a wake-up during a claim makes it claim again right after.
 * Woken by `NOTIFY`, by its own settlements, and by a timer (the next delayed message, or the
 * safety-net poll). A message past `maxDeliveries` is parked in the dead letters without a handler.
 * @internal
 */
export class PostgresConsumer implements Subscription {
  /** How often a live consumer refreshes its heartbeat row (and at most how long between lease renewals). */
  static readonly heartbeatMs = 5000;
  readonly endpoint: string;
  private readonly id = randomUUID();
  /** Unsettled deliveries, `token/seq` to their lease token (a message re-leased by this same consumer counts twice). */
  private readonly inFlight = new Map<string, string>();
  private readonly maxDeliveries: number;
  private claiming = false;
  private wanted = false;
  private paused = false;
  private closed = false;
  private failures = 0;
  private pollTimer: NodeJS.Timeout | undefined;
  private pollAt = Number.POSITIVE_INFINITY;
  private renewTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly connection: ConsumerConnection,
    private readonly options: SubscribeOptions,
    private readonly handler: DeliveryHandler,
    private readonly onClose: (consumer: PostgresConsumer) => void,
  ) {
    this.endpoint = options.endpoint;
    this.maxDeliveries = options.maxDeliveries ?? DEFAULT_MAX_DELIVERIES;
  }

  /** Registers the consumer's heartbeat row, starts lease renewal and takes the first messages. */
  async start(): Promise<void> {
    const t = this.connection.statements.tables;
    await this.connection.pool.query(
      `WITH stale AS (DELETE FROM ${t.consumers} WHERE heartbeat_at < now() - $5::float8 * interval '1 millisecond')
       INSERT INTO ${t.consumers} (id, endpoint, pid, host, heartbeat_at) VALUES ($1, $2, $3, $4, now())`,
      [this.id, this.endpoint, process.pid, hostname(), 10 * PostgresConsumer.heartbeatMs],
    );
    const every = Math.min(this.connection.leaseMs / 3, PostgresConsumer.heartbeatMs);
    this.renewTimer = setInterval(() => this.renew(), every);
    this.renewTimer.unref();
    this.wake();
  }

  /** Claims now, or right after the claim in progress. */
  wake(): void {
    if (this.closed || this.paused) return;
    if (this.claiming) {
      this.wanted = true;
      return;
    }
    void this.claim();
  }

  private async claim(): Promise<void> {
    this.claiming = true;
    try {
      do {
        this.wanted = false;
        const room = this.options.concurrency - this.inFlight.size;
        if (room <= 0 || this.closed || this.paused) break;
        await this.claimOnce(room);
      } while (this.wanted && !this.closed && !this.paused);
    } finally {
      this.claiming = false;
    }
  }

  private async claimOnce(room: number): Promise<void> {
    const { pool, statements, leaseMs, pollIntervalMs, log } = this.connection;
    const token = randomUUID();
    let rows: ClaimedRow[];
    try {
      rows = (await pool.query<ClaimedRow>(statements.claim(this.endpoint, room, leaseMs, token))).rows;
      this.failures = 0;
    } catch (error) {
      this.failures += 1;
      log.warn({ err: error, endpoint: this.endpoint, failures: this.failures }, 'claiming messages failed; trying again shortly');
      this.schedulePoll(exponentialDelay(this.failures + 1, 50, pollIntervalMs));
      return;
    }
    const claimed = rows.filter((row) => row.seq !== null);
    if (this.closed || this.paused) {
      if (claimed.length > 0) this.giveBack(token);
      return;
    }
    const next = rows.find((row) => row.seq === null)?.next_ms;
    this.schedulePoll(typeof next === 'number' ? Math.max(0, Math.ceil(next)) : pollIntervalMs);
    const deliveries: Delivery[] = [];
    for (const row of claimed) {
      if (row.attempt > this.maxDeliveries) {
        this.park(row, token);
        this.wanted = true;
        continue;
      }
      this.inFlight.set(`${token}/${row.seq}`, token);
      deliveries.push(this.delivery(row, token));
    }
    for (const delivery of deliveries) {
      // A handler may close the subscription: close() returned the rest of these to the queue.
      if (this.closed) return;
      try {
        void Promise.resolve(this.handler(delivery)).catch((error) => log.error({ err: error }, 'delivery handler threw'));
      } catch (error) {
        log.error({ err: error }, 'delivery handler threw');
      }
    }
  }

  /** Moves a row delivered more than `maxDeliveries` times to the dead letters, in SQL alone: nothing in the row can make it fail. */
  private park(row: ClaimedRow, token: string): void {
    const request = deliveryLimitRequest(row.attempt, this.maxDeliveries, plausibleDate(row.first_failure_at));
    const { pool, statements, log } = this.connection;
    pool.query(statements.deadLetter(row.seq as string, token, deadLetterDetails(request))).then(
      () =>
        log.error(
          { code: request.reason, endpoint: this.endpoint, seq: row.seq, attempt: request.attempts },
          'message delivered more than maxDeliveries times: parked in the dead letters without running a handler',
        ),
      (error: unknown) => log.warn({ err: error, seq: row.seq }, 'could not park a message past maxDeliveries; it is parked when its lease expires'),
    );
  }

  /** Returns messages leased but never handed out (paused in between), their attempt not counted. */
  private giveBack(token: string): void {
    this.connection.pool
      .query(this.connection.statements.release([token], true))
      .catch((error: unknown) => this.connection.log.warn({ err: error }, 'could not return claimed messages; they return when their lease expires'));
  }

  /** Makes sure a claim runs within `delayMs` (capped at the poll interval); an earlier timer is kept. */
  private schedulePoll(delayMs: number): void {
    if (this.closed || this.paused) return;
    const at = Date.now() + Math.min(delayMs, this.connection.pollIntervalMs);
    if (this.pollTimer !== undefined && this.pollAt <= at) return;
    clearTimeout(this.pollTimer);
    this.pollAt = at;
    this.pollTimer = setTimeout(
      () => {
        this.pollTimer = undefined;
        this.pollAt = Number.POSITIVE_INFINITY;
        this.wake();
      },
      Math.max(0, at - Date.now()),
    );
  }

  private delivery(row: ClaimedRow, token: string): Delivery {
    const seq = row.seq as string;
    const { settles, pool, statements } = this.connection;
    return {
      headers: storedHeaders(row.headers),
      body: new Uint8Array(row.body.buffer, row.body.byteOffset, row.body.byteLength),
      attempt: row.attempt,
      firstFailureAt: plausibleDate(row.first_failure_at),
      ack: () => this.settle(seq, token, () => settles.ack(seq, token)),
      retry: (delayMs: number) => this.settle(seq, token, () => settles.retry(seq, token, Number.isFinite(delayMs) ? Math.max(0, delayMs) : 0), true),
      deadLetter: (request: DeadLetterRequest) =>
        this.settle(seq, token, async () => (await pool.query(statements.deadLetter(seq, token, deadLetterDetails(request)))).rowCount === 1),
    };
  }

  /** Settles once: frees the slot at once (claiming again), then writes; `requeues` claims once more after the commit, which made the row visible again. */
  private async settle(seq: string, token: string, write: () => Promise<boolean>, requeues = false): Promise<void> {
    claimSettle(this.inFlight, `${token}/${seq}`);
    const written = write();
    // The slot is free: claim again (the row being settled is still leased, so no claim takes it).
    this.wake();
    if (!(await written)) throw settledError(LEASE_EXPIRED);
    if (requeues) this.wake();
  }

  private renew(): void {
    if (this.closed) return;
    const tokens = [...new Set(this.inFlight.values())];
    const { pool, statements, leaseMs, log } = this.connection;
    pool.query(statements.renew(tokens, leaseMs, this.id)).catch((error: unknown) => log.warn({ err: error }, 'lease renewal failed'));
  }

  async pause(): Promise<void> {
    this.paused = true;
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
  }

  /** Stops for good and returns every unsettled delivery to the queue (waiting at most 2 s for the database). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.paused = true;
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    clearInterval(this.renewTimer);
    const tokens = [...new Set(this.inFlight.values())];
    this.inFlight.clear();
    this.onClose(this);
    const { pool, statements, log } = this.connection;
    const work = Promise.all([
      tokens.length > 0 ? pool.query(statements.release(tokens, false)) : undefined,
      pool.query(`DELETE FROM ${statements.tables.consumers} WHERE id = $1`, [this.id]),
    ]).catch((error: unknown) => log.warn({ err: error }, 'could not release leases; they return when they expire'));
    await boundedWait(work, CLOSE_WAIT_MS);
  }
}
