import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  assertEndpointName,
  createDefaultLogger,
  type DeadLetterQueue,
  type DeliveryHandler,
  ErrorCodes,
  HeaderNames,
  type Logger,
  MailroomError,
  type OutgoingMessage,
  type QueueInfo,
  type SubscribeOptions,
  type Subscription,
  type Transport,
  type TransportCapabilities,
} from '@mailroom/core';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import type { BrokerConnection } from './broker-connection.js';
import { migrateBroker } from './broker-schema.js';
import { SqliteConsumer } from './sqlite-consumer.js';
import { createSqliteDeadLetterQueue } from './sqlite-dead-letters.js';
import { onBrokerWrite, signalBrokerWrite } from './wake-signal.js';
import { WriteBatcher } from './write-batcher.js';

/** Options of {@link createSqliteTransport}. */
export interface SqliteTransportOptions {
  /** Path of the broker file, shared by every process of every service on this machine. Created if missing. */
  path: string;
  /**
   * `normal` (default): a published message survives the crash (even `kill -9`) of any process;
   * the last commits can be lost on power failure or OS crash. `full`: also survives those, at a cost.
   */
  synchronous?: 'normal' | 'full';
  /** How long a delivery stays leased to a consumer before another may take it if not settled or renewed. Default 30 s; renewed while the handler runs. */
  leaseMs?: number;
  /** The safety-net poll interval when no wake-up arrives. Default 1000 ms. */
  pollIntervalMs?: number;
  /** How long a write waits for another process's write lock. Default 5000 ms. */
  busyTimeoutMs?: number;
  logger?: Logger;
}

const ADDS_MESSAGES = { addsMessages: true } as const;

/**
 * The longest delay a message may be scheduled with: about ten years. A scheduled message is a row
 * whose `visible_at` is its deliver-at time; the bound only keeps mistaken dates out.
 */
export const SQLITE_MAX_SCHEDULE_DELAY_MS = 10 * 365 * 24 * 3_600_000;

const capabilities: TransportCapabilities = Object.freeze({
  durable: true,
  crossProcess: true,
  delayedRetry: true,
  deadLetterQueue: true,
  delayPrecisionMs: 25,
  maxScheduleDelayMs: SQLITE_MAX_SCHEDULE_DELAY_MS,
});

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new MailroomError(ErrorCodes.TRANSPORT_CONFIG, `SQLite transport: ${name} must be a number > 0, got ${String(value)}`);
  }
  return value;
}

/**
 * The embedded default transport: a SQLite file (WAL mode) that several processes on one machine
 * open at once. Guarantees: `publish` resolves only after the message is committed (group commit);
 * events fan out to every subscribed endpoint, commands reach their owner's queue even before it
 * first starts; competing consumers across processes each get a message once per lease; messages
 * leased by a process that died come back after the lease; delayed retries and scheduled messages
 * (`deliverAt`, cancellable until delivered) via a visible-at time;
 * dead letters kept per endpoint. Wake-ups across processes come from watching the WAL file.
 */
export function createSqliteTransport(options: SqliteTransportOptions): Transport & { readonly path: string } {
  if (!options || typeof options.path !== 'string' || options.path.trim() === '') {
    throw new MailroomError(ErrorCodes.TRANSPORT_CONFIG, 'SQLite transport: "path" must be the path of the broker file, e.g. ".mailroom/broker.db"');
  }
  const path = resolve(options.path);
  const leaseMs = positive(options.leaseMs ?? 30_000, 'leaseMs');
  const pollIntervalMs = positive(options.pollIntervalMs ?? 1000, 'pollIntervalMs');
  const busyTimeoutMs = positive(options.busyTimeoutMs ?? 5000, 'busyTimeoutMs');
  const synchronous = options.synchronous ?? 'normal';
  if (synchronous !== 'normal' && synchronous !== 'full') {
    throw new MailroomError(ErrorCodes.TRANSPORT_CONFIG, `SQLite transport: synchronous must be 'normal' or 'full', got ${JSON.stringify(synchronous)}`);
  }
  const log = (options.logger ?? createDefaultLogger()).child({ transport: 'sqlite' });

  let db: Database;
  try {
    mkdirSync(dirname(path), { recursive: true });
    db = new BetterSqlite3(path, { timeout: busyTimeoutMs });
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous.toUpperCase()}`);
    migrateBroker(db);
  } catch (error) {
    throw new MailroomError(ErrorCodes.TRANSPORT_UNAVAILABLE, `SQLite transport: cannot open broker file ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }

  const statements = {
    subscribe: db.prepare('INSERT OR IGNORE INTO mailroom_subscriptions (type, endpoint) VALUES (?, ?)'),
    declareQueue: db.prepare('INSERT OR IGNORE INTO mailroom_queues (endpoint, created_at) VALUES (?, ?)'),
    fanOut: db.prepare(
      `INSERT INTO mailroom_messages (endpoint, headers, body, visible_at, enqueued_at)
       SELECT endpoint, ?, ?, ?, ? FROM mailroom_subscriptions WHERE type = ?`,
    ),
    toQueue: db.prepare('INSERT INTO mailroom_messages (endpoint, headers, body, visible_at, enqueued_at) VALUES (?, ?, ?, ?, ?)'),
    // A scan of the queue table (the id sits in the headers JSON): cancelling is rare next to publishing.
    cancelScheduled: db.prepare(
      `DELETE FROM mailroom_messages WHERE json_extract(headers, '$."${HeaderNames.id}"') = ? AND attempt = 0 AND lease_token IS NULL AND visible_at > ?`,
    ),
    depth: db.prepare(
      `SELECT q.endpoint AS endpoint,
              (SELECT COUNT(*) FROM mailroom_messages m WHERE m.endpoint = q.endpoint) AS depth,
              (SELECT COUNT(*) FROM mailroom_messages m WHERE m.endpoint = q.endpoint AND m.lease_token IS NOT NULL AND m.visible_at > @now) AS inFlight,
              (SELECT COUNT(*) FROM mailroom_consumers c WHERE c.endpoint = q.endpoint AND c.heartbeat_at > @alive) AS consumers,
              (SELECT COUNT(*) FROM mailroom_dead_letters d WHERE d.endpoint = q.endpoint) AS deadLetters,
              (SELECT json_group_array(type) FROM mailroom_subscriptions s WHERE s.endpoint = q.endpoint) AS events,
              (SELECT MIN(enqueued_at) FROM mailroom_messages m WHERE m.endpoint = q.endpoint) AS oldest
       FROM mailroom_queues q ORDER BY q.endpoint`,
    ),
  };

  const consumers = new Set<SqliteConsumer>();
  // Woken by every change of the file (the watcher, and direct calls from other connections of this
  // process). After this connection's own commits, its consumers have claimed already, in the same
  // transaction: no direct call to them. The watcher still reports those commits; a claim then
  // joins the next group commit, or runs on its own when none is pending. (Checking PRAGMA
  // data_version first would skip those, but a read can see the file before another process's
  // commit is complete and drop its wake-up, where a claim waits for that writer's lock.)
  const wakeAll = () => {
    for (const consumer of consumers) consumer.wake();
  };
  const connection: BrokerConnection = {
    db,
    path,
    leaseMs,
    pollIntervalMs,
    log,
    writes: new WriteBatcher(db, () => signalBrokerWrite(path, wakeAll)),
  };
  const unsubscribeWake = onBrokerWrite(path, wakeAll);
  let closed = false;
  const assertOpen = () => {
    if (closed) throw new MailroomError(ErrorCodes.TRANSPORT_CLOSED, 'The SQLite transport is closed');
  };

  const deadLetters: DeadLetterQueue = createSqliteDeadLetterQueue(connection, assertOpen);

  return {
    name: 'sqlite',
    path,
    capabilities,
    deadLetters,

    async publish(message: OutgoingMessage) {
      assertOpen();
      const headers = JSON.stringify(message.headers);
      const body = Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength);
      const route = message.route;
      if (route.kind === 'command') assertEndpointName(route.destination, 'command destination');
      const deliverAt = message.deliverAt?.getTime();
      await connection.writes.write(() => {
        const now = Date.now();
        const visibleAt = deliverAt !== undefined && deliverAt > now ? deliverAt : now;
        if (route.kind === 'event') {
          statements.fanOut.run(headers, body, visibleAt, now, route.type);
        } else {
          statements.declareQueue.run(route.destination, now);
          statements.toQueue.run(route.destination, headers, body, visibleAt, now);
        }
      }, ADDS_MESSAGES);
    },

    async cancelScheduled(messageId: string) {
      assertOpen();
      return connection.writes.write(() => statements.cancelScheduled.run(messageId, Date.now()).changes > 0);
    },

    async subscribe(subscribeOptions: SubscribeOptions, handler: DeliveryHandler): Promise<Subscription> {
      assertOpen();
      assertEndpointName(subscribeOptions.endpoint);
      const { endpoint, events } = subscribeOptions;
      await connection.writes.write(() => {
        statements.declareQueue.run(endpoint, Date.now());
        for (const type of events) statements.subscribe.run(type, endpoint);
      });
      const consumer = new SqliteConsumer(connection, subscribeOptions, handler, () => consumers.delete(consumer));
      consumers.add(consumer);
      try {
        consumer.start();
      } catch (error) {
        consumer.release(); // else it stays woken by every write and claims messages for a subscription nobody holds
        throw error;
      }
      return consumer;
    },

    async queues(): Promise<QueueInfo[]> {
      assertOpen();
      const now = Date.now();
      const rows = statements.depth.all({ now, alive: now - 3 * SqliteConsumer.heartbeatMs }) as {
        endpoint: string;
        depth: number;
        inFlight: number;
        consumers: number;
        deadLetters: number;
        events: string;
        oldest: number | null;
      }[];
      return rows.map((row) => ({
        endpoint: row.endpoint,
        name: row.endpoint,
        depth: row.depth,
        inFlight: row.inFlight,
        consumers: row.consumers,
        deadLetters: row.deadLetters,
        events: JSON.parse(row.events) as string[],
        oldestMessageAgeMs: row.oldest === null ? 0 : Math.max(0, now - row.oldest),
      }));
    },

    health() {
      return closed ? { connected: false, detail: 'closed' } : { connected: true, detail: `broker file ${path}` };
    },

    async close() {
      if (closed) return;
      closed = true;
      unsubscribeWake();
      for (const consumer of [...consumers]) consumer.release();
      connection.writes.flush();
      connection.writes.abort(new MailroomError(ErrorCodes.TRANSPORT_CLOSED, 'The SQLite transport is closed'));
      db.close();
    },
  };
}
