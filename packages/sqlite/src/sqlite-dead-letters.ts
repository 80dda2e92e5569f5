import { type DeadLetter, type DeadLetterFilter, type DeadLetterQueue, ErrorCodes, MailroomError } from '@mailroom/core';
import { checkDeadLetterFilter, checkPageFilter, encodeDeadLetterCursor, storedHeaders } from '@mailroom/core/internal';
import type { BrokerConnection } from './broker-connection.js';

interface DeadLetterRow {
  id: number;
  endpoint: string;
  message_id: string;
  type: string;
  headers: string;
  body: Buffer;
  reason: string;
  error_message: string;
  error_stack: string | null;
  attempts: number;
  first_failure_at: number;
  last_failure_at: number;
  dead_lettered_at: number;
}

function toDeadLetter(row: DeadLetterRow): DeadLetter {
  return {
    id: String(row.id),
    endpoint: row.endpoint,
    messageId: row.message_id,
    type: row.type,
    headers: storedHeaders(row.headers),
    body: new Uint8Array(row.body),
    reason: row.reason,
    errorMessage: row.error_message,
    errorStack: row.error_stack ?? undefined,
    attempts: row.attempts,
    firstFailureAt: new Date(row.first_failure_at),
    lastFailureAt: new Date(row.last_failure_at),
    deadLetteredAt: new Date(row.dead_lettered_at),
  };
}

/** Builds the WHERE clause and parameters of a filter. */
function where(filter: DeadLetterFilter, extra: readonly string[] = []): { sql: string; params: Record<string, unknown> } {
  const clauses: string[] = [...extra];
  const params: Record<string, unknown> = {};
  if (filter.endpoint !== undefined) {
    clauses.push('endpoint = @endpoint');
    params.endpoint = filter.endpoint;
  }
  if (filter.type !== undefined) {
    clauses.push('type = @type');
    params.type = filter.type;
  }
  if (filter.since !== undefined) {
    clauses.push('dead_lettered_at >= @since');
    params.since = filter.since.getTime();
  }
  if (filter.before !== undefined) {
    clauses.push('dead_lettered_at < @before');
    params.before = filter.before.getTime();
  }
  if (filter.ids !== undefined) {
    clauses.push('id IN (SELECT value FROM json_each(@ids))');
    params.ids = JSON.stringify(filter.ids.map(Number).filter(Number.isSafeInteger));
  }
  return { sql: clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

function notFound(id: string): MailroomError {
  return new MailroomError(ErrorCodes.DEAD_LETTER_NOT_FOUND, `No dead letter with id ${JSON.stringify(id)} in this SQLite broker`);
}

/**
 * The dead-letter queues of a SQLite broker file: one table, keyed by endpoint. Replay moves a
 * dead letter back to its endpoint's queue in one transaction, headers and body unchanged.
 * @internal
 */
export function createSqliteDeadLetterQueue(connection: BrokerConnection, assertOpen: () => void): DeadLetterQueue {
  const { db } = connection;
  const getRow = db.prepare('SELECT * FROM mailroom_dead_letters WHERE id = ?');
  const requeue = db.prepare(
    `INSERT INTO mailroom_messages (endpoint, headers, body, visible_at, enqueued_at)
     SELECT endpoint, headers, body, @now, @now FROM mailroom_dead_letters WHERE id = @id`,
  );
  const remove = db.prepare('DELETE FROM mailroom_dead_letters WHERE id = ?');

  const list = async (filter: DeadLetterFilter = {}) => {
    assertOpen();
    const direction = checkDeadLetterFilter(filter) === 'newest-first' ? 'DESC' : 'ASC';
    const { sql, params } = where(filter);
    const limit = filter.limit === undefined ? '' : ` LIMIT ${filter.limit}`;
    const rows = db
      .prepare(`SELECT * FROM mailroom_dead_letters ${sql} ORDER BY dead_lettered_at ${direction}, id ${direction}${limit}`)
      .all(params) as DeadLetterRow[];
    return rows.map(toDeadLetter);
  };

  /** A keyset read: the index on (endpoint or type or nothing, dead_lettered_at, rowid) seeks straight to the cursor. */
  const page = async (filter: DeadLetterFilter = {}) => {
    assertOpen();
    const { order, limit, after } = checkPageFilter(filter, 'sqlite');
    const newest = order === 'newest-first';
    const direction = newest ? 'DESC' : 'ASC';
    let seek: string[] = [];
    let position: Record<string, number> = {};
    if (after) {
      if (!/^\d{1,16}$/.test(after.id))
        throw new MailroomError(ErrorCodes.DEAD_LETTER_CURSOR_INVALID, 'The dead-letter cursor is malformed: pass the nextCursor of a previous page unchanged');
      seek = [`(dead_lettered_at, id) ${newest ? '<' : '>'} (@afterAt, @afterId)`];
      position = { afterAt: Number(after.at), afterId: Number(after.id) };
    }
    const { sql, params } = where(filter, seek);
    const rows = db
      .prepare(`SELECT * FROM mailroom_dead_letters ${sql} ORDER BY dead_lettered_at ${direction}, id ${direction} LIMIT ${limit + 1}`)
      .all({ ...params, ...position }) as DeadLetterRow[];
    const letters = rows.slice(0, limit).map(toDeadLetter);
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    return {
      letters,
      nextCursor: last ? encodeDeadLetterCursor('sqlite', order, { at: String(last.dead_lettered_at), id: String(last.id) }) : undefined,
    };
  };

  return {
    list,
    page,
    async get(id) {
      assertOpen();
      const row = /^\d+$/.test(id) ? (getRow.get(Number(id)) as DeadLetterRow | undefined) : undefined;
      if (!row) throw notFound(id);
      return toDeadLetter(row);
    },
    async replay(id) {
      assertOpen();
      if (!/^\d+$/.test(id)) throw notFound(id);
      const moved = await connection.writes.write(
        () => {
          const inserted = requeue.run({ id: Number(id), now: Date.now() }).changes;
          if (inserted > 0) remove.run(Number(id));
          return inserted;
        },
        { addsMessages: true },
      );
      if (moved === 0) throw notFound(id);
    },
    async purge(filter = {}) {
      assertOpen();
      checkDeadLetterFilter(filter);
      const { sql, params } = where(filter);
      return connection.writes.write(() => db.prepare(`DELETE FROM mailroom_dead_letters ${sql}`).run(params).changes);
    },
  };
}
