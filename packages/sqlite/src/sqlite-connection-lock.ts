import { AsyncLocalStorage } from 'node:async_hooks';
import { resolve } from 'node:path';
import { ErrorCodes, MailroomError } from '@mailroom/core';
import type { Database } from 'better-sqlite3';

/**
 * Serializes Mailroom's use of one SQLite database in this process. A transaction of a handler
 * spans awaits while a better-sqlite3 connection is synchronous and has a single transaction, so
 * every transaction, claim and read Mailroom makes runs under this lock, one at a time, in call order.
 * Calling a store method that takes the lock from inside such a transaction would wait forever; it
 * throws `MAILROOM_ERR_PERSISTENCE_STATE` instead.
 */
export class ConnectionLock {
  private tail: Promise<void> = Promise.resolve();
  private readonly holder = new AsyncLocalStorage<true>();

  /** Runs `work` once every earlier holder finished. */
  async run<T>(work: () => T | Promise<T>): Promise<T> {
    if (this.holder.getStore()) {
      throw new MailroomError(
        ErrorCodes.PERSISTENCE_STATE,
        'This SQLite connection is inside a Mailroom transaction in this call chain: use its `tx` for reads and writes instead of calling the store, which would wait for the transaction to end',
      );
    }
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    try {
      return await this.holder.run(true, work);
    } finally {
      release();
    }
  }
}

const fileLocks = new Map<string, ConnectionLock>();
const memoryLocks = new WeakMap<Database, ConnectionLock>();

/**
 * The lock of a database file in this process, shared by every Mailroom store and persistence on
 * any connection to that file (an in-memory database has one per connection). Sharing it per file
 * matters: SQLite waits for another connection's write lock synchronously, so a second connection
 * of the same process starting a write while the first one's transaction waits on an await would
 * block the event loop, and with it the transaction it waits for, until the busy timeout.
 */
export function connectionLock(db: Database): ConnectionLock {
  if (db.memory) {
    let lock = memoryLocks.get(db);
    if (!lock) memoryLocks.set(db, (lock = new ConnectionLock()));
    return lock;
  }
  const file = resolve(db.name);
  let lock = fileLocks.get(file);
  if (!lock) fileLocks.set(file, (lock = new ConnectionLock()));
  return lock;
}
