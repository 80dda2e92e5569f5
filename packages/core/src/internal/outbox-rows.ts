import type { Headers } from '../envelope.js';
import type { OutboxMessage, OutboxRecord } from '../outbox.js';
import type { Route } from '../transport.js';

/**
 * Picks, from due candidate records (oldest first), those a relay may publish now: every record
 * without an ordering key, and for each key the longest run of candidates that starts at the key's
 * oldest unsent row with no unsent row of that key missing in between. `unsentByKey` lists, per
 * key, the ids of every unsent row of that key up to the newest candidate, oldest first.
 * Guarantees a key's rows are never published ahead of an older unsent row of the same key.
 */
export function selectInKeyOrder(candidates: readonly OutboxRecord[], unsentByKey: ReadonlyMap<string, readonly string[]>): OutboxRecord[] {
  const position = new Map<string, number>();
  const blocked = new Set<string>();
  const selected: OutboxRecord[] = [];
  for (const record of candidates) {
    const key = record.message.orderingKey;
    if (key === undefined) {
      selected.push(record);
      continue;
    }
    if (blocked.has(key)) continue;
    const index = position.get(key) ?? 0;
    if (unsentByKey.get(key)?.[index] !== record.id) {
      blocked.add(key);
      continue;
    }
    position.set(key, index + 1);
    selected.push(record);
  }
  return selected;
}

/**
 * Groups the unsent rows of some ordering keys (`ordering_key`, `id` as the SQL stores select them),
 * oldest first, into the per-key id lists {@link selectInKeyOrder} takes as `unsentByKey`.
 */
export function unsentIdsByKey(rows: Iterable<{ readonly ordering_key: string; readonly id: string | number }>): Map<string, string[]> {
  const unsentByKey = new Map<string, string[]>();
  for (const row of rows) {
    const list = unsentByKey.get(row.ordering_key);
    if (list) list.push(String(row.id));
    else unsentByKey.set(row.ordering_key, [String(row.id)]);
  }
  return unsentByKey;
}

/** An outbox row as the SQL stores select it: the columns of the outbox table, as each driver returns them. */
export interface OutboxRow {
  readonly id: string | number;
  readonly route_kind: 'event' | 'command';
  readonly type: string;
  readonly destination: string | null;
  /** JSON text (SQLite) or the parsed JSON (PostgreSQL `jsonb`). */
  readonly headers: string | Headers;
  readonly body: Uint8Array;
  readonly ordering_key: string | null;
  readonly attempts: number;
  /** Epoch milliseconds (SQLite) or a `Date` (PostgreSQL). */
  readonly created_at: number | Date;
  /** When a scheduled message is to be delivered, as `created_at`; null (or absent) for now. */
  readonly deliver_at?: number | Date | null;
}

/** The record a relay receives for a stored outbox row: the route rebuilt from kind, type and destination, the body as a plain `Uint8Array` over the same bytes. */
export function outboxRecordFromRow(row: OutboxRow): OutboxRecord {
  const route: Route =
    row.route_kind === 'command' ? { kind: 'command', type: row.type, destination: row.destination ?? '' } : { kind: 'event', type: row.type };
  const message: OutboxMessage = {
    route,
    headers: typeof row.headers === 'string' ? (JSON.parse(row.headers) as Headers) : row.headers,
    body: new Uint8Array(row.body.buffer, row.body.byteOffset, row.body.byteLength),
    ...(row.ordering_key !== null && { orderingKey: row.ordering_key }),
    ...(row.deliver_at !== undefined && row.deliver_at !== null && { deliverAt: row.deliver_at instanceof Date ? row.deliver_at : new Date(row.deliver_at) }),
  };
  return { id: String(row.id), message, attempts: row.attempts, createdAt: row.created_at instanceof Date ? row.created_at : new Date(row.created_at) };
}

/** Distinct ordering keys among records, in first-seen order. */
export function orderingKeysOf(records: readonly OutboxRecord[]): string[] {
  const keys = new Set<string>();
  for (const record of records) if (record.message.orderingKey !== undefined) keys.add(record.message.orderingKey);
  return [...keys];
}
