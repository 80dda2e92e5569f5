import { decodeSagaData, encodeSagaData, type SagaChange, type SagaStore, type StoredSaga, sagaConflict } from '@mailroom/core';
import type { PgQueryable } from './pg-client.js';
import type { PostgresTables } from './postgres-tables.js';

interface SagaRow {
  instance_id: string;
  version: number;
  data: string;
  completed_at: Date | null;
}

/**
 * Saga instances in PostgreSQL: one row per (saga, key) with a version column, written in the
 * handler's transaction. Two handlers that loaded the same version race at `update`: the second
 * waits for the first's row lock, then finds the version moved and throws
 * `MAILROOM_ERR_SAGA_CONFLICT` (its transaction rolls back and the message is retried). Two
 * concurrent starts race at `insert` (`ON CONFLICT DO NOTHING`): the second gets the conflict.
 */
export class PostgresSagaStore implements SagaStore<PgQueryable> {
  constructor(private readonly tables: PostgresTables) {}

  async load(tx: PgQueryable, saga: string, key: string): Promise<StoredSaga | undefined> {
    const { rows } = await tx.query<SagaRow>(
      `SELECT instance_id, version, data::text AS data, completed_at FROM ${this.tables.sagas} WHERE saga = $1 AND saga_key = $2`,
      [saga, key],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      saga,
      key,
      instanceId: row.instance_id,
      version: row.version,
      completedAt: row.completed_at ?? undefined,
      ...decodeSagaData(row.data),
    };
  }

  async insert(tx: PgQueryable, saga: string, key: string, change: SagaChange): Promise<void> {
    const { rowCount } = await tx.query(
      `INSERT INTO ${this.tables.sagas} (saga, saga_key, instance_id, version, data, completed_at)
       VALUES ($1, $2, $3, 1, $4::jsonb, CASE WHEN $5 THEN now() END) ON CONFLICT DO NOTHING`,
      [saga, key, change.instanceId, encodeSagaData(change), change.completed],
    );
    if (rowCount !== 1) throw sagaConflict(saga, key, undefined);
  }

  async update(tx: PgQueryable, saga: string, key: string, expectedVersion: number, change: SagaChange): Promise<void> {
    const { rowCount } = await tx.query(
      `UPDATE ${this.tables.sagas} SET instance_id = $1, version = version + 1, data = $2::jsonb, updated_at = now(),
         completed_at = CASE WHEN $3 THEN now() END
       WHERE saga = $4 AND saga_key = $5 AND version = $6`,
      [change.instanceId, encodeSagaData(change), change.completed, saga, key, expectedVersion],
    );
    if (rowCount !== 1) throw sagaConflict(saga, key, expectedVersion);
  }
}
