import BetterSqlite3, { type Database, type Statement } from 'better-sqlite3';
import type { BenchMessage } from '../bench-message.js';
import type { MessagingContender } from '../messaging-contender.js';

/** Settings of the hand-written SQLite queue. */
export interface RawSqliteQueueOptions {
  readonly name: string;
  /** Its own database file. */
  readonly path: string;
  /** `per-message`: every insert and every delete is its own transaction. `group`: the inserts (and the deletes) of one event-loop turn share one. */
  readonly commit: 'per-message' | 'group';
  /** Most rows claimed at once. */
  readonly prefetch: number;
  /** How long a claim holds a row (a consumer that died gives it back after this). */
  readonly leaseMs: number;
}

interface Row {
  id: number;
  body: Buffer;
}

/**
 * A queue table written by hand on better-sqlite3, as a competent user writes one for several
 * processes: WAL and `synchronous = NORMAL` (Mailroom's pragmas), a claim that leases up to
 * `prefetch` visible rows in one `UPDATE ... RETURNING`, JSON parsed, the row deleted after
 * handling (at least once, like Mailroom's ack). Consumers are woken in-process by the producer.
 */
export function rawSqliteQueue(options: RawSqliteQueueOptions): MessagingContender {
  let db: Database | undefined;
  let statements: { insert: Statement; claim: Statement; remove: Statement } | undefined;
  let deliver: (message: BenchMessage) => void = () => undefined;
  let wakeScheduled = false;
  let pending: { body: Buffer; resolve: () => void }[] = [];
  let insertAll: ((rows: { body: Buffer }[]) => void) | undefined;
  let removeAll: ((ids: number[]) => void) | undefined;
  let closed = false;

  const consume = () => {
    wakeScheduled = false;
    if (closed || !db || !statements) return;
    for (;;) {
      const now = Date.now();
      const rows = statements.claim.all(now + options.leaseMs, now, options.prefetch) as Row[];
      if (rows.length === 0) return;
      const handled: number[] = [];
      for (const row of rows) {
        deliver(JSON.parse(row.body.toString('utf8')) as BenchMessage);
        if (options.commit === 'per-message') statements.remove.run(row.id);
        else handled.push(row.id);
      }
      if (handled.length > 0) removeAll?.(handled);
      if (rows.length < options.prefetch) return;
    }
  };
  const wake = () => {
    if (wakeScheduled) return;
    wakeScheduled = true;
    setImmediate(consume);
  };
  const flush = () => {
    const batch = pending;
    pending = [];
    insertAll?.(batch);
    for (const write of batch) write.resolve();
    wake();
  };

  return {
    name: options.name,
    async start(onMessage) {
      deliver = onMessage;
      const database = new BetterSqlite3(options.path, { timeout: 5000 });
      db = database;
      database.pragma('journal_mode = WAL');
      database.pragma('synchronous = NORMAL');
      database.exec(`CREATE TABLE IF NOT EXISTS queue (id INTEGER PRIMARY KEY, body BLOB NOT NULL, visible_at INTEGER NOT NULL, lease TEXT);
        CREATE INDEX IF NOT EXISTS queue_visible ON queue (visible_at, id);`);
      const s = {
        insert: database.prepare('INSERT INTO queue (body, visible_at) VALUES (?, ?)'),
        claim: database.prepare(
          'UPDATE queue SET visible_at = ? WHERE id IN (SELECT id FROM queue WHERE visible_at <= ? ORDER BY visible_at, id LIMIT ?) RETURNING id, body',
        ),
        remove: database.prepare('DELETE FROM queue WHERE id = ?'),
      };
      statements = s;
      insertAll = database.transaction((rows: { body: Buffer }[]) => {
        const now = Date.now();
        for (const row of rows) s.insert.run(row.body, now);
      });
      removeAll = database.transaction((ids: number[]) => {
        for (const id of ids) s.remove.run(id);
      });
    },
    async publish(message) {
      const body = Buffer.from(JSON.stringify(message));
      if (options.commit === 'per-message') {
        statements?.insert.run(body, Date.now());
        wake();
        return;
      }
      await new Promise<void>((resolve) => {
        pending.push({ body, resolve });
        if (pending.length === 1) setImmediate(flush);
      });
    },
    async stop() {
      closed = true;
      db?.close();
      db = undefined;
    },
  };
}
