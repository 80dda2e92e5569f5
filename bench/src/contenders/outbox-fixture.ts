import type { Endpoint, OutboxStore, Transport } from '@mailroom/core';

/**
 * One service database (PostgreSQL or SQLite) set up for the outbox scenario: a business table,
 * Mailroom's outbox in the same database, and the three ways of writing an order.
 */
export interface OutboxFixture {
  readonly name: string;
  /** The business insert alone, in its own transaction (BEGIN, INSERT, COMMIT), written by hand. */
  bareInsert(seq: number): Promise<void>;
  /** The business insert alone as one auto-committed statement. */
  autocommitInsert(seq: number): Promise<void>;
  /** The business insert plus an outbox message, through `endpoint.transaction` (relay off). */
  insertWithOutbox(seq: number): Promise<void>;
  /** Writes `count` outbox messages, `perTransaction` per transaction, for the relay to drain. */
  prefillOutbox(count: number, perTransaction: number): Promise<void>;
  /** Deletes every outbox and business row (between phases). */
  clear(): Promise<void>;
  /** The outbox store, for a relay of the benchmark's own. */
  readonly outbox: OutboxStore<any>;
  /**
   * An endpoint with a persistence of its own on this database (other tables) whose relay runs
   * with the default settings and publishes through `transport`.
   */
  relayingEndpoint(name: string, transport: Transport): Endpoint<any>;
  /** The server or library version, for the result file. */
  version(): Promise<string>;
  close(): Promise<void>;
}
