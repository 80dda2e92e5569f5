import { type DeadLetter, type DeadLetterFilter, type DeadLetterQueue, ErrorCodes, MailroomError } from '@mailroom/core';
import { storedHeaders } from '@mailroom/core/internal';
import type { PostgresBrokerTables } from './broker-tables.js';
import { databaseError } from './database-errors.js';
import type { PgTransportPool } from './pg-client.js';

interface DeadLetterRow {
  id: string;
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
function where(filter: DeadLetterFilter): { sql: string; values: unknown[] } {
  const clauses: string[] = [];
  const values: unknown[] = [];
  const add = (clause: (n: string) => string, value: unknown) => {
    values.push(value);
    clauses.push(clause(`$${values.length}`));
  };
  if (filter.endpoint !== undefined) add((n) => `endpoint = ${n}`, filter.endpoint);
  if (filter.type !== undefined) add((n) => `type = ${n}`, filter.type);
  if (filter.since !== undefined) add((n) => `dead_lettered_at >= ${n}`, filter.since);
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
      const { sql, values } = where(filter);
      const limit = filter.limit === undefined ? '' : ` LIMIT ${Math.max(0, Math.floor(Number(filter.limit)) || 0)}`;
      const { rows } = await run<DeadLetterRow>(
        'listing dead letters',
        `SELECT ${COLUMNS} FROM ${t.deadLetters} ${sql} ORDER BY ${t.deadLetters}.id${limit}`,
        values,
      );
      return rows.map(toDeadLetter);
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
      const { sql, values } = where(filter);
      const { rowCount } = await run('purging dead letters', `DELETE FROM ${t.deadLetters} ${sql}`, values);
      return rowCount ?? 0;
    },
  };
}
