import {
  assertEndpointName,
  createDefaultLogger,
  type DeadLetterQueue,
  type DeliveryHandler,
  ErrorCodes,
  errorMessage,
  isMailroomError,
  type Logger,
  MailroomError,
  type OutboxMessage,
  type OutgoingMessage,
  type QueueInfo,
  redactUrl,
  type SubscribeOptions,
  type Subscription,
  type Transport,
  type TransportCapabilities,
} from '@mailroom/core';
import { checkNumberOption, POSITIVE, TurnBatcher } from '@mailroom/core/internal';
import pg from 'pg';
import { migrateBroker } from './broker-schema.js';
import { BrokerStatements } from './broker-statements.js';
import { type PostgresBrokerTables, postgresBrokerTables } from './broker-tables.js';
import { databaseError, isConnectionError } from './database-errors.js';
import { addMessage, emptyColumns, type MessageColumns, pgText } from './message-columns.js';
import { lockOrderingKeys } from './ordering-locks.js';
import type { PgNamedQuery, PgQueryable, PgQueryResult, PgTransportPool } from './pg-client.js';
import { boundedWait, PostgresConsumer } from './postgres-consumer.js';
import { createPostgresDeadLetterQueue } from './postgres-dead-letters.js';
import type { PostgresTableOptions } from './postgres-tables.js';
import { PublishBatcher } from './publish-batcher.js';
import { SettleBatcher } from './settle-batcher.js';
import { WakeListener } from './wake-listener.js';

/** Options of {@link createPostgresTransport}. Give `pool` or `connectionString`. */
export interface PostgresTransportOptions extends PostgresTableOptions {
  /** Your pg `Pool` (Mailroom never closes it; attach `pool.on('error', ...)` as pg recommends). The transport keeps one of its clients to `LISTEN`. */
  pool?: PgTransportPool;
  /** A `postgres://` URL: the transport then creates and owns a pool of `poolSize` connections. */
  connectionString?: string;
  /** Size of the pool the transport creates from `connectionString`. Default 10. */
  poolSize?: number;
  /** How long a delivery stays leased to a consumer before another may take it, unless renewed (renewed while the handler runs). Default 30 000 ms. */
  leaseMs?: number;
  /** The safety-net poll when no `NOTIFY` arrives. Default 1000 ms. */
  pollIntervalMs?: number;
  logger?: Logger;
}

/** A transport whose broker is a set of PostgreSQL tables. */
export interface PostgresTransport extends Transport {
  readonly name: 'postgres';
  /** The tables and the `LISTEN` channel it uses. */
  readonly tables: PostgresBrokerTables;
  /** The random id stored in its tables: two pools that read the same id reach the same tables. */
  readonly brokerId: string;
  /** The pool in use (yours when you passed `pool`). */
  readonly pool: PgTransportPool;
  /**
   * Inserts messages into the queues inside your open transaction `tx` (a client of the same
   * database, after `BEGIN`): they exist, and are delivered, if and only if it commits. Takes the
   * same per-ordering-key locks as the outbox, so transactions writing under one key commit in the
   * order they wrote. Resolves with the endpoints that got a message; call {@link wake} with them
   * after the commit, or consumers find them at their next poll.
   */
  enqueue(tx: PgQueryable, messages: readonly OutboxMessage[]): Promise<string[]>;
  /** Wakes the consumers of `endpoints`, in every process (one `NOTIFY` each, sent together at the end of this turn). */
  wake(endpoints: Iterable<string>): void;
}

/**
 * Deliveries of a message become visible again this late at most after their delay: consumers
 * schedule a claim for the next visible message they see; the declared value leaves room for a
 * busy shared machine.
 */
export const POSTGRES_DELAY_PRECISION_MS = 50;

/**
 * The longest delay a message may be scheduled with: about ten years. A scheduled message is a row
 * whose `visible_at` is its deliver-at time; the bound only keeps mistaken dates out.
 */
export const POSTGRES_MAX_SCHEDULE_DELAY_MS = 10 * 365 * 24 * 3_600_000;

const capabilities: TransportCapabilities = Object.freeze({
  durable: true,
  crossProcess: true,
  delayedRetry: true,
  deadLetterQueue: true,
  delayPrecisionMs: POSTGRES_DELAY_PRECISION_MS,
  maxScheduleDelayMs: POSTGRES_MAX_SCHEDULE_DELAY_MS,
});

function positive(value: unknown, name: string): number {
  return checkNumberOption(value, `PostgreSQL transport: ${name}`, POSITIVE, (message) => new MailroomError(ErrorCodes.TRANSPORT_CONFIG, message));
}

/** Whether `tx` is a pg `Client` (a pool's client included), which runs named queries. */
function isPgClient(tx: PgQueryable): tx is PgQueryable & { query<R>(query: PgNamedQuery): Promise<PgQueryResult<R>> } {
  return tx instanceof pg.Client;
}

function openPool(connectionString: string, poolSize: number, log: Logger): PgTransportPool {
  const pool = new pg.Pool({ connectionString, max: poolSize, application_name: 'mailroom-transport' });
  pool.on('error', (error) => log.warn({ err: error }, 'an idle PostgreSQL connection failed; the pool replaces it'));
  return pool as unknown as PgTransportPool;
}

/**
 * Creates a transport whose broker is a set of tables in PostgreSQL (created when missing,
 * idempotently, with a schema version). Resolves once the tables exist and the wake-up connection
 * listens. Guarantees: `publish` resolves only after the message committed (publishes of one turn
 * share a commit); an event goes to every endpoint subscribed to its type, a command to its
 * destination's queue even before that endpoint ever started; competing consumers in any number of
 * processes each get a message while they hold its lease (`FOR UPDATE SKIP LOCKED`); the leases of
 * a consumer that died run out and its messages are delivered again with attempt + 1; delayed
 * retries and scheduled messages (`deliverAt`) wait in the table (`visible_at`), and a scheduled
 * message not yet delivered can be cancelled (`cancelScheduled` deletes its rows); dead letters are kept per endpoint until replayed or
 * purged. Consumers are woken by `LISTEN/NOTIFY` and poll as a safety net.
 * Throws `MAILROOM_ERR_TRANSPORT_CONFIG` for bad options, `MAILROOM_ERR_TRANSPORT_UNAVAILABLE` when
 * the database cannot be reached, `MAILROOM_ERR_POSTGRES_BROKER_SCHEMA` when its tables are newer
 * than this package.
 */
export async function createPostgresTransport(options: PostgresTransportOptions): Promise<PostgresTransport> {
  if (typeof options !== 'object' || options === null)
    throw new MailroomError(ErrorCodes.TRANSPORT_CONFIG, 'createPostgresTransport needs { pool } or { connectionString }');
  const given = options.pool;
  if (given !== undefined && (typeof given.connect !== 'function' || typeof given.query !== 'function')) {
    throw new MailroomError(ErrorCodes.TRANSPORT_CONFIG, 'PostgreSQL transport: pool must be a pg Pool (new pg.Pool({ connectionString }))');
  }
  if (given === undefined && (typeof options.connectionString !== 'string' || options.connectionString.trim() === '')) {
    throw new MailroomError(
      ErrorCodes.TRANSPORT_CONFIG,
      'PostgreSQL transport: give { pool } (your pg Pool) or { connectionString } (postgres://user@host:5432/db)',
    );
  }
  const tables = postgresBrokerTables(options);
  const leaseMs = positive(options.leaseMs ?? 30_000, 'leaseMs');
  const pollIntervalMs = positive(options.pollIntervalMs ?? 1000, 'pollIntervalMs');
  const poolSize = positive(options.poolSize ?? 10, 'poolSize');
  const log = (options.logger ?? createDefaultLogger()).child({ transport: 'postgres' });
  const pool = given ?? openPool(options.connectionString as string, poolSize, log);
  const where = given ? 'your pool' : redactUrl(options.connectionString as string);

  const statements = new BrokerStatements(tables);
  const consumers = new Map<string, Set<PostgresConsumer>>();
  const wakeEndpoint = (endpoint: string) => {
    for (const consumer of consumers.get(endpoint) ?? []) consumer.wake();
  };
  const wakeAll = () => {
    for (const endpoint of consumers.keys()) wakeEndpoint(endpoint);
  };
  const listener = new WakeListener(pool, tables.channel, wakeEndpoint, wakeAll, log);
  let brokerId: string;
  try {
    brokerId = await migrateBroker(pool, tables);
    await listener.start();
  } catch (error) {
    await listener.close();
    if (!given) await pool.end().catch(() => undefined);
    if (isMailroomError(error) && !isConnectionError(error.cause)) throw error;
    throw new MailroomError(ErrorCodes.TRANSPORT_UNAVAILABLE, `Could not connect the PostgreSQL transport to ${where}: ${errorMessage(error)}`, {
      cause: error,
    });
  }

  let closed = false;
  const assertOpen = () => {
    if (closed) throw new MailroomError(ErrorCodes.TRANSPORT_CLOSED, 'The PostgreSQL transport is closed');
  };
  const settles = new SettleBatcher(statements, (query) => pool.query(query));
  const publisher = new PublishBatcher(async (columns: MessageColumns) => {
    await pool.query(statements.publish(columns));
  });

  // Wake-ups asked for by callers that wrote in their own transactions (the same-database outbox):
  // one NOTIFY statement at a time, the endpoints asked for meanwhile sent together by the next,
  // since every notifying commit takes PostgreSQL's global notify lock.
  const wakes = new TurnBatcher<string>(
    async (endpoints) => {
      if (!closed) await pool.query(statements.notify([...new Set(endpoints)]));
    },
    { maxInFlight: 1, when: 'tick', onError: (error) => log.warn({ err: error }, 'NOTIFY failed; consumers find the messages at their next poll') },
  );

  const deadLetters: DeadLetterQueue = createPostgresDeadLetterQueue(pool, tables, assertOpen);
  const connection = { pool, statements, settles, leaseMs, pollIntervalMs, log };

  return {
    name: 'postgres',
    capabilities,
    deadLetters,
    tables,
    brokerId,
    pool,

    async publish(message: OutgoingMessage) {
      assertOpen();
      try {
        await publisher.publish(message);
      } catch (error) {
        if (error instanceof MailroomError) throw error;
        throw databaseError(error, `publishing ${message.route.type}`);
      }
    },

    async cancelScheduled(messageId: string) {
      assertOpen();
      try {
        const { rowCount } = await pool.query(statements.cancelScheduled(pgText(messageId)));
        return (rowCount ?? 0) > 0;
      } catch (error) {
        throw databaseError(error, 'cancelling a scheduled message');
      }
    },

    async enqueue(tx: PgQueryable, messages: readonly OutboxMessage[]) {
      assertOpen();
      if (messages.length === 0) return [];
      const columns = emptyColumns();
      for (const message of messages) addMessage(columns, message);
      await lockOrderingKeys(tx, tables.messages, messages);
      const query = statements.enqueue(columns);
      // A pg client (what your pool hands out) prepares a named statement once per connection; anything else gets the text.
      const { rows } = isPgClient(tx) ? await tx.query<{ endpoint: string }>(query) : await tx.query<{ endpoint: string }>(query.text, query.values);
      return rows.map((row) => row.endpoint);
    },

    wake(endpoints: Iterable<string>) {
      for (const endpoint of endpoints) wakes.add(endpoint);
    },

    async subscribe(subscribeOptions: SubscribeOptions, handler: DeliveryHandler): Promise<Subscription> {
      assertOpen();
      assertEndpointName(subscribeOptions.endpoint);
      const concurrency = subscribeOptions.concurrency;
      if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
        throw new MailroomError(ErrorCodes.TRANSPORT_CONFIG, `PostgreSQL transport: concurrency must be a whole number >= 1, got ${String(concurrency)}`);
      }
      const { endpoint, events } = subscribeOptions;
      try {
        await pool.query(
          `WITH q AS (INSERT INTO ${tables.queues} (endpoint) VALUES ($1) ON CONFLICT DO NOTHING)
           INSERT INTO ${tables.subscriptions} (type, endpoint) SELECT DISTINCT type, $1 FROM unnest($2::text[]) AS type ON CONFLICT DO NOTHING`,
          [endpoint, [...events]],
        );
      } catch (error) {
        throw databaseError(error, `declaring the queue of ${endpoint}`, ErrorCodes.TRANSPORT_CONFIG);
      }
      const consumer = new PostgresConsumer(connection, subscribeOptions, handler, (closing) => {
        const set = consumers.get(closing.endpoint);
        set?.delete(closing);
        if (set?.size === 0) consumers.delete(closing.endpoint);
      });
      let set = consumers.get(endpoint);
      if (!set) consumers.set(endpoint, (set = new Set()));
      set.add(consumer);
      try {
        await consumer.start();
      } catch (error) {
        await consumer.close();
        throw databaseError(error, `starting a consumer of ${endpoint}`, ErrorCodes.TRANSPORT_UNAVAILABLE);
      }
      return consumer;
    },

    async queues(): Promise<QueueInfo[]> {
      assertOpen();
      let rows: { endpoint: string; depth: string; in_flight: string; consumers: string; dead_letters: string; events: string[] }[];
      try {
        ({ rows } = await pool.query(
          `SELECT q.endpoint,
                  (SELECT count(*) FROM ${tables.messages} m WHERE m.endpoint = q.endpoint) AS depth,
                  (SELECT count(*) FROM ${tables.messages} m WHERE m.endpoint = q.endpoint AND m.lease_token IS NOT NULL AND m.visible_at > now()) AS in_flight,
                  (SELECT count(*) FROM ${tables.consumers} c WHERE c.endpoint = q.endpoint AND c.heartbeat_at > now() - $1::float8 * interval '1 millisecond') AS consumers,
                  (SELECT count(*) FROM ${tables.deadLetters} d WHERE d.endpoint = q.endpoint) AS dead_letters,
                  ARRAY(SELECT s.type FROM ${tables.subscriptions} s WHERE s.endpoint = q.endpoint ORDER BY s.type) AS events
             FROM ${tables.queues} q ORDER BY q.endpoint`,
          [3 * PostgresConsumer.heartbeatMs],
        ));
      } catch (error) {
        throw databaseError(error, 'reading queue depths', ErrorCodes.TRANSPORT_UNAVAILABLE);
      }
      return rows.map((row) => ({
        endpoint: row.endpoint,
        name: `${tables.messages}:${row.endpoint}`,
        depth: Number(row.depth),
        inFlight: Number(row.in_flight),
        consumers: Number(row.consumers),
        deadLetters: Number(row.dead_letters),
        events: row.events,
      }));
    },

    async close() {
      if (closed) return;
      closed = true;
      publisher.abort(new MailroomError(ErrorCodes.TRANSPORT_CLOSED, 'The PostgreSQL transport is closed'));
      const closing = [...consumers.values()].flatMap((set) => [...set]).map((consumer) => consumer.close());
      await Promise.all(closing);
      await listener.close();
      if (!given) await boundedWait(pool.end(), 2000);
    },
  };
}
