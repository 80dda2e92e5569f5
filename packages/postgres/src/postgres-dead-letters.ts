import { type DeadLetter, type DeadLetterFilter, type DeadLetterQueue, ErrorCodes, MailroomError } from '@mailroom/core';
import { checkDeadLetterFilter, checkPageFilter, encodeDeadLetterCursor, storedHeaders } from '@mailroom/core/internal';
import type { PostgresBrokerTables } from './broker-tables.js';
import { databaseError } from './database-errors.js';
import type { PgTransportPool } from './pg-client.js';

interface DeadLetterRow {
  id: string;
  /** dead_lettered_at in microseconds since the epoch, as text: the cursor keeps PostgreSQL's full precision. */
  at_us?: string;
  endpoint: string;
  message_id: string;
  type: string;
  headers: string;
  body: Buffer;
  reason: string;
  error_message: string;
  error_stack: string | null;
  attempts: number;
  first_failure_at: Date;
  last_failure_at: Date;
  dead_lettered_at: Date;
}

const ID = /^[0-9]{1,18}$/;
const COLUMNS =
  'id::text AS id, endpoint, message_id, type, headers, body, reason, error_message, error_stack, attempts, first_failure_at, last_failure_at, dead_lettered_at';

function toDeadLetter(row: DeadLetterRow): DeadLetter {
  return {
    id: row.id,
    endpoint: row.endpoint,
    messageId: row.message_id,
    type: row.type,
    headers: storedHeaders(row.headers),
    body: new Uint8Array(row.body.buffer, row.body.byteOffset, row.body.byteLength),
    reason: row.reason,
    errorMessage: row.error_message,
    errorStack: row.error_stack ?? undefined,
    attempts: row.attempts,
    firstFailureAt: row.first_failure_at,
    lastFailureAt: row.last_failure_at,
    deadLetteredAt: row.dead_lettered_at,
  };
}

/** The WHERE clause and parameters of a filter (every value a parameter). */
function where(filter: DeadLetterFilter, values: unknown[] = [], extra: readonly string[] = []): { sql: string; values: unknown[] } {
  const clauses: string[] = [...extra];
  const add = (clause: (n: string) => string, value: unknown) => {
    values.push(value);
    clauses.push(clause(`$${values.length}`));
  };
  if (filter.endpoint !== undefined) add((n) => `endpoint = ${n}`, filter.endpoint);
  if (filter.type !== undefined) add((n) => `type = ${n}`, filter.type);
  if (filter.since !== undefined) add((n) => `dead_lettered_at >= ${n}`, filter.since);
  if (filter.before !== undefined) add((n) => `dead_lettered_at < ${n}`, filter.before);
  if (filter.ids !== undefined)
    add(
      (n) => `id = ANY(${n}::bigint[])`,
      filter.ids.filter((id) => ID.test(id)),
    );
  return { sql: clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', values };
}

function notFound(id: string): MailroomError {
  return new MailroomError(ErrorCodes.DEAD_LETTER_NOT_FOUND, `No dead letter with id ${JSON.stringify(id)} in this PostgreSQL transport`);
}

/**
 * The dead-letter queues of the PostgreSQL transport: one table, keyed by endpoint. Replay moves a
 * dead letter back to its endpoint's queue in one statement (headers and body unchanged, attempts
 * from 1) and wakes the endpoint's consumers.
 * @internal
 */
export function createPostgresDeadLetterQueue(pool: PgTransportPool, t: PostgresBrokerTables, assertOpen: () => void): DeadLetterQueue {
  const run = async <R>(what: string, text: string, values: unknown[]) => {
    assertOpen();
    try {
      return await pool.query<R>(text, values);
    } catch (error) {
      throw databaseError(error, what, ErrorCodes.TRANSPORT_UNAVAILABLE);
    }
  };
  return {
    async list(filter: DeadLetterFilter = {}) {
      const direction = checkDeadLetterFilter(filter) === 'newest-first' ? 'DESC' : 'ASC';
      const { sql, values } = where(filter);
      const limit = filter.limit === undefined ? '' : ` LIMIT ${filter.limit}`;
      const { rows } = await run<DeadLetterRow>(
        'listing dead letters',
        `SELECT ${COLUMNS} FROM ${t.deadLetters} ${sql} ORDER BY dead_lettered_at ${direction}, ${t.deadLetters}.id ${direction}${limit}`,
        values,
      );
      return rows.map(toDeadLetter);
    },
    // A keyset read: an index on (endpoint or type or nothing, dead_lettered_at, id) seeks straight to the cursor.
    async page(filter: DeadLetterFilter = {}) {
      const { order, limit, after } = checkPageFilter(filter, 'postgres');
      const newest = order === 'newest-first';
      const direction = newest ? 'DESC' : 'ASC';
      const values: unknown[] = [];
      const seek: string[] = [];
      if (after) {
        if (!ID.test(after.id))
          throw new MailroomError(
            ErrorCodes.DEAD_LETTER_CURSOR_INVALID,
            'The dead-letter cursor is malformed: pass the nextCursor of a previous page unchanged',
          );
        values.push(after.at, after.id);
        seek.push(`(dead_lettered_at, id) ${newest ? '<' : '>'} (timestamptz 'epoch' + $1::bigint * interval '1 microsecond', $2::bigint)`);
      }
      const { sql } = where(filter, values, seek);
      const { rows } = await run<DeadLetterRow>(
        'reading a page of dead letters',
        `SELECT ${COLUMNS}, ((extract(epoch FROM dead_lettered_at) * 1000000)::bigint)::text AS at_us
           FROM ${t.deadLetters} ${sql} ORDER BY dead_lettered_at ${direction}, ${t.deadLetters}.id ${direction} LIMIT ${limit + 1}`,
        values,
      );
      const last = rows.length > limit ? rows[limit - 1] : undefined;
      return {
        letters: rows.slice(0, limit).map(toDeadLetter),
        nextCursor: last ? encodeDeadLetterCursor('postgres', order, { at: last.at_us as string, id: last.id }) : undefined,
      };
    },
    async get(id) {
      if (typeof id !== 'string' || !ID.test(id)) throw notFound(String(id));
      const { rows } = await run<DeadLetterRow>('reading a dead letter', `SELECT ${COLUMNS} FROM ${t.deadLetters} WHERE id = $1`, [id]);
      if (!rows[0]) throw notFound(id);
      return toDeadLetter(rows[0]);
    },
    async replay(id) {
      if (typeof id !== 'string' || !ID.test(id)) throw notFound(String(id));
      const { rowCount } = await run(
        'replaying a dead letter',
        `WITH moved AS (DELETE FROM ${t.deadLetters} WHERE id = $1 RETURNING endpoint, message_id, type, headers, body),
              declared AS (INSERT INTO ${t.queues} (endpoint) SELECT endpoint FROM moved ON CONFLICT DO NOTHING),
              inserted AS (INSERT INTO ${t.messages} (endpoint, message_id, type, headers, body) SELECT endpoint, message_id, type, headers, body FROM moved RETURNING endpoint)
         SELECT pg_notify('${t.channel}', endpoint) FROM inserted`,
        [id],
      );
      if (rowCount !== 1) throw notFound(id);
    },
    async purge(filter = {}) {
      checkDeadLetterFilter(filter);
      const { sql, values } = where(filter);
      const { rowCount } = await run('purging dead letters', `DELETE FROM ${t.deadLetters} ${sql}`, values);
      return rowCount ?? 0;
    },
  };
}
