import type {
  AppendOutcome,
  NewOperation,
  OperationClassifier,
  OperationEntry,
  OperationEntryKind,
  OperationEvent,
  OperationStatus,
  OperationStep,
  OperationStore,
  StoredOperation,
} from '../operation-store.js';
import type { Disposable } from '../relay.js';

/** One SQL statement (with `?` placeholders) a {@link SqlProgram} asks its dialect to run. */
export interface SqlStep {
  readonly op: 'all' | 'run';
  readonly sql: string;
  readonly params: readonly unknown[];
}

/**
 * Store logic written once for every database: a generator that yields statements and receives
 * their results (rows for `all`, changed-row count for `run`). A synchronous driver (SQLite) runs a
 * whole program inside one synchronous transaction; an asynchronous one (PostgreSQL) awaits each step.
 */
export type SqlProgram<T> = Generator<SqlStep, T, unknown>;

/** What differs between databases: how programs run, transactions, per-operation locking, table names. */
export interface SqlDialect {
  readonly name: string;
  /** Runs `program` outside a transaction (reads). */
  read<T>(program: () => SqlProgram<T>): Promise<T>;
  /**
   * Runs `program` in one transaction that first takes the write lock of `lockKey` (serializing
   * every writer of that operation across processes): commits when it returns, rolls back when it throws.
   */
  transaction<T>(lockKey: string, program: () => SqlProgram<T>): Promise<T>;
  /** Runs the DDL statements, idempotently, safe against concurrent migrations. */
  migrate(statements: readonly string[]): Promise<void>;
  /** The quoted, qualified name of a table. */
  table(name: string): string;
}

function* all<R>(sql: string, params: readonly unknown[] = []): Generator<SqlStep, R[], unknown> {
  return (yield { op: 'all', sql, params }) as R[];
}

function* run(sql: string, params: readonly unknown[] = []): Generator<SqlStep, number, unknown> {
  return Number(yield { op: 'run', sql, params });
}

const TERMINAL: Partial<Record<OperationEntryKind, OperationStatus>> = { completed: 'completed', failed: 'failed', 'timed-out': 'timed-out' };
const TIMED_OUT_TYPE = 'mailroom.operation.timed-out';
const EXPIRE_BATCH = 100;

interface OperationRow {
  id: string;
  name: string;
  status: OperationStatus;
  steps: string;
  started_at: number | string;
  deadline: number | string | null;
  last_seq: number;
}

interface EntryRow {
  seq: number;
  kind: OperationEntryKind;
  type: string;
  message_id: string;
  at: number | string;
  recorded_at: number | string;
  data: string | null;
}

interface EarlyRow {
  message_id: string;
  type: string;
  at: number | string;
  data: string | null;
}

function json(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

function parse(value: string | null): unknown {
  return value === null ? undefined : JSON.parse(value);
}

function iso(ms: number | string): string {
  return new Date(Number(ms)).toISOString();
}

/**
 * An {@link OperationStore} over SQL that SQLite and PostgreSQL both speak; a {@link SqlDialect}
 * supplies transactions and locking. Three tables: operations, their entries, and early events
 * (received before their operation was recorded).
 */
export class SqlOperationStore implements OperationStore {
  readonly dialect: string;
  private readonly listeners = new Set<(operationId: string) => void>();
  private readonly operations: string;
  private readonly entries: string;
  private readonly early: string;

  constructor(
    private readonly db: SqlDialect,
    private readonly prefix: string,
  ) {
    this.dialect = db.name;
    this.operations = db.table(`${prefix}operations`);
    this.entries = db.table(`${prefix}operation_entries`);
    this.early = db.table(`${prefix}operation_early_events`);
  }

  async migrate(): Promise<void> {
    const p = this.prefix;
    await this.db.migrate([
      `CREATE TABLE IF NOT EXISTS ${this.operations} (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        steps TEXT NOT NULL,
        started_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        deadline BIGINT,
        ended_at BIGINT,
        last_seq INTEGER NOT NULL
      )`,
      `CREATE INDEX IF NOT EXISTS ${p}operations_pending ON ${this.operations} (status, deadline)`,
      `CREATE TABLE IF NOT EXISTS ${this.entries} (
        operation_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        type TEXT NOT NULL,
        message_id TEXT NOT NULL,
        at BIGINT NOT NULL,
        recorded_at BIGINT NOT NULL,
        data TEXT,
        PRIMARY KEY (operation_id, seq)
      )`,
      `CREATE UNIQUE INDEX IF NOT EXISTS ${p}operation_entries_message ON ${this.entries} (operation_id, message_id)`,
      `CREATE TABLE IF NOT EXISTS ${this.early} (
        operation_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        type TEXT NOT NULL,
        at BIGINT NOT NULL,
        received_at BIGINT NOT NULL,
        data TEXT,
        PRIMARY KEY (operation_id, message_id)
      )`,
      `CREATE INDEX IF NOT EXISTS ${p}operation_early_received ON ${this.early} (received_at)`,
    ]);
  }

  async create(operation: NewOperation, classify: OperationClassifier): Promise<boolean> {
    const self = this;
    const created = await this.db.transaction(operation.id, function* () {
      const now = Date.now();
      const inserted = yield* run(
        `INSERT INTO ${self.operations} (id, name, status, steps, started_at, updated_at, deadline, ended_at, last_seq)
         VALUES (?, ?, 'pending', ?, ?, ?, ?, NULL, 1) ON CONFLICT (id) DO NOTHING`,
        [operation.id, operation.name, JSON.stringify(operation.steps), operation.startedAt.getTime(), now, operation.deadline?.getTime() ?? null],
      );
      if (inserted === 0) return false;
      yield* run(`INSERT INTO ${self.entries} (operation_id, seq, kind, type, message_id, at, recorded_at, data) VALUES (?, 1, 'started', ?, ?, ?, ?, ?)`, [
        operation.id,
        operation.started.type,
        operation.started.messageId,
        operation.startedAt.getTime(),
        now,
        json(operation.started.data),
      ]);
      const early = yield* all<EarlyRow>(`SELECT message_id, type, at, data FROM ${self.early} WHERE operation_id = ? ORDER BY at, received_at, message_id`, [
        operation.id,
      ]);
      if (early.length > 0) {
        yield* run(`DELETE FROM ${self.early} WHERE operation_id = ?`, [operation.id]);
        const row: OperationRow = {
          id: operation.id,
          name: operation.name,
          status: 'pending',
          steps: '',
          started_at: operation.startedAt.getTime(),
          deadline: operation.deadline?.getTime() ?? null,
          last_seq: 1,
        };
        for (const event of early) {
          yield* self.apply(row, { type: event.type, messageId: event.message_id, at: new Date(Number(event.at)), data: parse(event.data) }, classify);
        }
      }
      return true;
    });
    if (created) this.notify(operation.id);
    return created;
  }

  async append(operationId: string, event: OperationEvent, classify: OperationClassifier): Promise<AppendOutcome> {
    const self = this;
    const outcome = await this.db.transaction(operationId, function* (): SqlProgram<AppendOutcome> {
      const [row] = yield* all<OperationRow>(`SELECT id, name, status, steps, started_at, deadline, last_seq FROM ${self.operations} WHERE id = ?`, [
        operationId,
      ]);
      if (!row) {
        yield* run(
          `INSERT INTO ${self.early} (operation_id, message_id, type, at, received_at, data) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (operation_id, message_id) DO NOTHING`,
          [operationId, event.messageId, event.type, event.at.getTime(), Date.now(), json(event.data)],
        );
        return 'early';
      }
      return yield* self.apply(row, event, classify);
    });
    if (outcome === 'recorded') this.notify(operationId);
    return outcome;
  }

  /** Applies an event to a locked operation row, updating `row` in place. */
  private *apply(row: OperationRow, event: OperationEvent, classify: OperationClassifier): SqlProgram<AppendOutcome> {
    if (row.status !== 'pending') return 'final';
    const role = classify(row.name, { type: event.type, data: event.data });
    if (!role) return 'unrelated';
    if (role.kind === 'started') return 'duplicate';
    const [existing] = yield* all(`SELECT seq FROM ${this.entries} WHERE operation_id = ? AND message_id = ?`, [row.id, event.messageId]);
    if (existing) return 'duplicate';
    const seq = Number(row.last_seq) + 1;
    const now = Date.now();
    const status = TERMINAL[role.kind] ?? 'pending';
    yield* run(`INSERT INTO ${this.entries} (operation_id, seq, kind, type, message_id, at, recorded_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, [
      row.id,
      seq,
      role.kind,
      event.type,
      event.messageId,
      event.at.getTime(),
      now,
      json(role.data),
    ]);
    yield* run(`UPDATE ${this.operations} SET last_seq = ?, updated_at = ?, status = ?, ended_at = ? WHERE id = ?`, [
      seq,
      now,
      status,
      status === 'pending' ? null : now,
      row.id,
    ]);
    row.last_seq = seq;
    row.status = status;
    return 'recorded';
  }

  async read(operationId: string, afterSeq = 0): Promise<StoredOperation | undefined> {
    const self = this;
    const found = await this.db.read(function* () {
      const [row] = yield* all<OperationRow>(`SELECT id, name, status, steps, started_at, deadline, last_seq FROM ${self.operations} WHERE id = ?`, [
        operationId,
      ]);
      if (!row) return undefined;
      const entries = yield* all<EntryRow>(
        `SELECT seq, kind, type, message_id, at, recorded_at, data FROM ${self.entries} WHERE operation_id = ? AND seq > ? ORDER BY seq`,
        [operationId, afterSeq],
      );
      return { row, entries };
    });
    if (!found) return undefined;
    const { row, entries } = found;
    return {
      operation: {
        id: row.id,
        name: row.name,
        steps: JSON.parse(row.steps) as OperationStep[],
        startedAt: iso(row.started_at),
        deadline: row.deadline === null ? undefined : iso(row.deadline),
      },
      entries: entries.map((entry): OperationEntry => {
        const data = parse(entry.data);
        return {
          seq: Number(entry.seq),
          kind: entry.kind,
          type: entry.type,
          messageId: entry.message_id,
          at: iso(entry.at),
          recordedAt: iso(entry.recorded_at),
          ...(data !== undefined && { data }),
        };
      }),
    };
  }

  async expire(now: Date = new Date()): Promise<string[]> {
    const self = this;
    const expired: string[] = [];
    // Batch after batch: a round leaves the operations it selected no longer pending (by this sweep or another).
    for (;;) {
      const before = expired.length;
      const due = await self.db.read(() =>
        all<{ id: string }>(
          `SELECT id FROM ${this.operations} WHERE status = 'pending' AND deadline IS NOT NULL AND deadline <= ? ORDER BY deadline LIMIT ${EXPIRE_BATCH}`,
          [now.getTime()],
        ),
      );
      for (const { id } of due) {
        const outcome = await this.db.transaction(id, function* (): SqlProgram<AppendOutcome> {
          const [row] = yield* all<OperationRow>(`SELECT id, name, status, steps, started_at, deadline, last_seq FROM ${self.operations} WHERE id = ?`, [id]);
          if (row?.status !== 'pending' || row.deadline === null || Number(row.deadline) > now.getTime()) return 'final';
          const data = { deadline: iso(row.deadline) };
          return yield* self.apply(row, { type: TIMED_OUT_TYPE, messageId: 'mailroom:timed-out', at: now }, () => ({ kind: 'timed-out', data }));
        });
        if (outcome === 'recorded') {
          expired.push(id);
          this.notify(id);
        }
      }
      if (due.length < EXPIRE_BATCH || expired.length === before) return expired;
    }
  }

  purgeEarly(before: Date): Promise<number> {
    return this.db.read(() => run(`DELETE FROM ${this.early} WHERE received_at < ?`, [before.getTime()]));
  }

  onAppend(listener: (operationId: string) => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private notify(operationId: string): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(operationId);
      } catch {
        // a listener's failure must not undo a committed append
      }
    }
  }
}
