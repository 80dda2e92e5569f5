import { createHash } from 'node:crypto';
import type { PostgresBrokerTables } from './broker-tables.js';
import type { PgNamedQuery } from './pg-client.js';

/** The largest value `attempt` (a PostgreSQL integer) can take; a claim never adds 1 past it. */
export const MAX_ATTEMPT = 2_147_483_647;

/** Copies the leased rows a CTE `moved` deleted into the dead letters; `$3`... are the failure's details. Nothing in a row can make it fail. */
const COPY_MOVED = (t: PostgresBrokerTables) => `INSERT INTO ${t.deadLetters}
    (endpoint, message_id, type, headers, body, reason, error_message, error_stack, attempts, first_failure_at, last_failure_at)
  SELECT endpoint, message_id, type, headers, body, $3, $4, $5, $6, $7, $8 FROM moved`;

/**
 * The fan-out of a batch of messages: one row per message per subscribed endpoint, or in the
 * destination's queue (declared on the way). A scheduled message's row becomes visible at its deliver-at time.
 */
const FAN_OUT = (t: PostgresBrokerTables) => `WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::text[], $6::timestamptz[])
      WITH ORDINALITY AS i(message_id, type, headers, body, destination, deliver_at, ord)
  ), declared AS (
    INSERT INTO ${t.queues} (endpoint) SELECT DISTINCT destination FROM input WHERE destination IS NOT NULL ON CONFLICT DO NOTHING
  ), inserted AS (
    INSERT INTO ${t.messages} (endpoint, message_id, type, headers, body, visible_at)
    SELECT target.endpoint, i.message_id, i.type, i.headers, i.body, GREATEST(now(), i.deliver_at)
      FROM input AS i CROSS JOIN LATERAL (
        SELECT s.endpoint FROM ${t.subscriptions} AS s WHERE i.destination IS NULL AND s.type = i.type
        UNION ALL SELECT i.destination WHERE i.destination IS NOT NULL
      ) AS target
     ORDER BY i.ord, target.endpoint
    RETURNING endpoint
  )`;

/**
 * The SQL of the transport over one set of tables, as named statements: pg prepares each once per
 * connection. Names carry a hash of the tables, so transports on other tables never share a name.
 */
export class BrokerStatements {
  private readonly id: string;

  constructor(readonly tables: PostgresBrokerTables) {
    this.id = createHash('sha256').update(`${tables.schema}.${tables.prefix}`).digest('hex').slice(0, 10);
  }

  private named(name: string, text: string, values: unknown[]): PgNamedQuery {
    return { name: `mailroom_${this.id}_${name}`, text, values };
  }

  private cache = new Map<string, string>();

  /** The statement text of `name`, built once. */
  private text(name: string, build: (t: PostgresBrokerTables) => string): string {
    let text = this.cache.get(name);
    if (text === undefined) this.cache.set(name, (text = build(this.tables)));
    return text;
  }

  /** Inserts a batch (arrays of ids, types, headers, bodies, destinations) and notifies every endpoint that got a message, in one statement. */
  publish(columns: unknown[]): PgNamedQuery {
    const t = this.tables;
    return this.named(
      'publish',
      this.text('publish', () => `${FAN_OUT(t)} SELECT pg_notify('${t.channel}', endpoint) FROM (SELECT DISTINCT endpoint FROM inserted) AS e`),
      columns,
    );
  }

  /** Inserts a batch like {@link publish}, without notifying, and returns the endpoints that got a message (for a caller's own transaction). */
  enqueue(columns: unknown[]): PgNamedQuery {
    return this.named(
      'enqueue',
      this.text('enqueue', (t) => `${FAN_OUT(t)} SELECT DISTINCT endpoint FROM inserted`),
      columns,
    );
  }

  /**
   * Deletes the rows of message `$1` still waiting for their deliver-at time (never delivered, not
   * leased) and notifies nothing; returns one row per copy removed.
   */
  cancelScheduled(messageId: string): PgNamedQuery {
    return this.named(
      'cancel_scheduled',
      this.text(
        'cancel_scheduled',
        (t) => `DELETE FROM ${t.messages} WHERE message_id = $1 AND attempt = 0 AND lease_token IS NULL AND visible_at > now() RETURNING 1`,
      ),
      [messageId],
    );
  }

  /** Notifies the consumers of the endpoints given. */
  notify(endpoints: readonly string[]): PgNamedQuery {
    const t = this.tables;
    return this.named(
      'notify',
      this.text('notify', () => `SELECT pg_notify('${t.channel}', e) FROM unnest($1::text[]) AS e`),
      [endpoints],
    );
  }

  /**
   * Leases up to `$2` ready messages of endpoint `$1` with token `$4` until `$3` ms from now, attempt
   * + 1 (never past the integer maximum), oldest first; other consumers skip rows being leased. The
   * last row (seq null) says in how many ms the next message of the endpoint becomes visible.
   */
  claim(endpoint: string, limit: number, leaseMs: number, token: string): PgNamedQuery {
    return this.named(
      'claim',
      this.text(
        'claim',
        (t) => `WITH ready AS (
          SELECT seq FROM ${t.messages} WHERE endpoint = $1 AND visible_at <= now() ORDER BY visible_at, seq LIMIT $2 FOR UPDATE SKIP LOCKED
        ), leased AS (
          UPDATE ${t.messages} AS m SET attempt = LEAST(m.attempt, ${MAX_ATTEMPT - 1}) + 1, visible_at = now() + $3::float8 * interval '1 millisecond', lease_token = $4
            FROM ready WHERE m.seq = ready.seq
          RETURNING m.seq, m.headers, m.body, m.attempt, m.first_failure_at
        )
        SELECT seq::text AS seq, headers, body, attempt, first_failure_at, NULL::float8 AS next_ms FROM (SELECT * FROM leased ORDER BY seq) AS l
        UNION ALL
        SELECT NULL, NULL, NULL, NULL, NULL, extract(epoch FROM min(visible_at) - now()) * 1000 FROM ${t.messages} WHERE endpoint = $1 AND visible_at > now()`,
      ),
      [endpoint, limit, leaseMs, token],
    );
  }

  /** Acknowledges (deletes) and retries (makes visible after a delay, first failure kept) leased rows by (seq, token); returns the seqs changed with `a` or `r`. */
  settle(ackSeqs: string[], ackTokens: string[], retrySeqs: string[], retryTokens: string[], retryDelays: number[]): PgNamedQuery {
    return this.named(
      'settle',
      this.text(
        'settle',
        (t) => `WITH acked AS (
          DELETE FROM ${t.messages} AS m USING unnest($1::bigint[], $2::uuid[]) AS a(seq, token)
           WHERE m.seq = a.seq AND m.lease_token = a.token RETURNING m.seq
        ), retried AS (
          UPDATE ${t.messages} AS m SET visible_at = now() + r.delay * interval '1 millisecond', lease_token = NULL,
                 first_failure_at = COALESCE(m.first_failure_at, now())
            FROM unnest($3::bigint[], $4::uuid[], $5::float8[]) AS r(seq, token, delay)
           WHERE m.seq = r.seq AND m.lease_token = r.token RETURNING m.seq
        )
        SELECT seq::text AS seq, 'a' AS kind FROM acked UNION ALL SELECT seq::text, 'r' FROM retried`,
      ),
      [ackSeqs, ackTokens, retrySeqs, retryTokens, retryDelays],
    );
  }

  /** Moves leased row `$1` (token `$2`) to the dead letters with the failure `$3..$8` (reason, message, stack, attempts, first and last failure). */
  deadLetter(seq: string, token: string, details: unknown[]): PgNamedQuery {
    return this.named(
      'dead_letter',
      this.text(
        'dead_letter',
        (t) => `WITH moved AS (
          DELETE FROM ${t.messages} WHERE seq = $1 AND lease_token = $2 RETURNING endpoint, message_id, type, headers, body
        ) ${COPY_MOVED(t)}`,
      ),
      [seq, token, ...details],
    );
  }

  /** Extends the leases of tokens `$1` to `$2` ms from now and refreshes consumer `$3`'s heartbeat. */
  renew(tokens: string[], leaseMs: number, consumer: string): PgNamedQuery {
    return this.named(
      'renew',
      this.text(
        'renew',
        (t) => `WITH renewed AS (
          UPDATE ${t.messages} SET visible_at = now() + $2::float8 * interval '1 millisecond' WHERE lease_token = ANY($1::uuid[]) RETURNING 1
        ) UPDATE ${t.consumers} SET heartbeat_at = now() WHERE id = $3`,
      ),
      [tokens, leaseMs, consumer],
    );
  }

  /** Makes the rows of tokens `$1` visible now, their attempt kept (handed to a handler) or, when `$2`, taken back (never handed out). */
  release(tokens: string[], uncount: boolean): PgNamedQuery {
    return this.named(
      'release',
      this.text(
        'release',
        (t) => `UPDATE ${t.messages} SET visible_at = now(), lease_token = NULL, attempt = CASE WHEN $2::boolean THEN GREATEST(attempt - 1, 0) ELSE attempt END
          WHERE lease_token = ANY($1::uuid[])`,
      ),
      [tokens, uncount],
    );
  }
}
