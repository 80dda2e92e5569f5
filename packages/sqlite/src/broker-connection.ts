import type { Logger } from '@mailroom/core';
import type { Database } from 'better-sqlite3';
import type { WriteBatcher } from './write-batcher.js';

/**
 * @internal What the consumers and the dead-letter queue of a SQLite broker file share with their
 * transport: the connection, its group commit, and the lease and poll settings. A module of its
 * own, so neither imports the transport that creates them.
 */
export interface BrokerConnection {
  readonly db: Database;
  readonly path: string;
  readonly writes: WriteBatcher;
  readonly leaseMs: number;
  readonly pollIntervalMs: number;
  readonly log: Logger;
}
