import { ErrorCodes, MailroomError } from './errors.js';
import { assertNonNegative, assertPositiveInteger } from './internal/persistence-config.js';
import type { Logger } from './logger.js';
import type { InboxStore, MessageDatabase, OutboxMessage, OutboxStore } from './outbox.js';
import type { OutboxHealth, Persistence, PersistenceContext } from './persistence.js';
import { createRelay, type Relay, type RelayTuning, resolveRelaySettings } from './relay.js';
import type { SagaStore } from './saga-store.js';
import { MessagingAttributes } from './telemetry/messaging-attributes.js';
import type { StopObserving } from './telemetry/telemetry.js';

/** Options of {@link createStorePersistence}. */
export interface StorePersistenceOptions<Tx> {
  database: MessageDatabase<Tx>;
  outbox: OutboxStore<Tx>;
  inbox: InboxStore<Tx>;
  /** The saga store in the same database (its table is created by the database's migrations). Optional. */
  sagas?: SagaStore<Tx>;
  /** Relay settings, or `false` when another process relays this outbox (this one only writes). Default: relay here with the defaults. */
  relay?: RelayTuning | false;
  /**
   * How long inbox records are kept. A duplicate that arrives later than this after the first
   * successful handling runs again, so keep it longer than the longest time a broker or relay can
   * redeliver a message. Default 7 days.
   */
  inboxRetentionMs?: number;
  /** How often expired inbox records are deleted. Default 60 000 ms. */
  inboxCleanupIntervalMs?: number;
}

const DAY_MS = 24 * 3_600_000;

/**
 * A {@link Persistence} made of a database, an outbox store and an inbox store: it migrates the
 * tables on start, runs the relay (woken at once after every commit that wrote outbox rows through
 * `transaction`), deletes inbox records past their retention, and stops both on stop.
 * Guarantees: messages written in a transaction leave if and only if it commits; an inbox record
 * exists if and only if the handler's transaction committed.
 */
export class StorePersistence<Tx> implements Persistence<Tx> {
  readonly name: string;
  readonly outbox: OutboxStore<Tx>;
  readonly inbox: InboxStore<Tx>;
  readonly sagas: SagaStore<Tx> | undefined;
  private readonly database: MessageDatabase<Tx>;
  private readonly relayOptions: RelayTuning | false;
  private readonly inboxRetentionMs: number;
  private readonly inboxCleanupIntervalMs: number;
  private readonly openTransactions = new Map<Tx, { wroteOutbox: boolean }>();
  private currentRelay: Relay | undefined;
  private endpoint: string | undefined;
  private log: Logger | undefined;
  private cleanupTimer: NodeJS.Timeout | undefined;
  private cleaning: Promise<unknown> | undefined;
  private stopObserving: StopObserving | undefined;

  constructor(options: StorePersistenceOptions<Tx>) {
    if (!options?.database || !options.outbox || !options.inbox) {
      throw new MailroomError(ErrorCodes.PERSISTENCE_CONFIG, 'createStorePersistence needs { database, outbox, inbox }');
    }
    this.database = options.database;
    this.name = options.database.name;
    this.outbox = options.outbox;
    this.inbox = options.inbox;
    this.sagas = options.sagas;
    this.relayOptions = options.relay ?? {};
    this.inboxRetentionMs = assertNonNegative(options.inboxRetentionMs ?? 7 * DAY_MS, 'inboxRetentionMs');
    this.inboxCleanupIntervalMs = assertPositiveInteger(options.inboxCleanupIntervalMs ?? 60_000, 'inboxCleanupIntervalMs');
    if (this.relayOptions !== false) resolveRelaySettings(this.relayOptions);
  }

  /** The running relay, between `start()` and `stop()`, when this process relays. */
  get relay(): Relay | undefined {
    return this.currentRelay;
  }

  /** Creates or upgrades the tables now (also done by `start`). Idempotent; safe from several processes at once. */
  migrate(): Promise<void> {
    return this.database.migrate();
  }

  /**
   * Migrates, then starts the relay through `context.transport` and the inbox cleanup. A
   * persistence serves one endpoint at a time (create one per endpoint; they can share a pool):
   * a second endpoint throws `MAILROOM_ERR_PERSISTENCE_STATE`.
   */
  async start(context: PersistenceContext): Promise<void> {
    if (this.endpoint !== undefined) {
      if (this.endpoint === context.endpoint) return;
      throw new MailroomError(
        ErrorCodes.PERSISTENCE_STATE,
        `This ${this.name} persistence is already started by endpoint ${this.endpoint}; create one persistence per endpoint (they can share a connection pool)`,
      );
    }
    this.endpoint = context.endpoint;
    try {
      await this.database.migrate();
    } catch (error) {
      this.endpoint = undefined;
      throw error;
    }
    this.log = context.logger.child({ persistence: this.name });
    if (this.relayOptions !== false) {
      this.currentRelay = createRelay({
        ...this.relayOptions,
        store: this.outbox,
        transport: context.transport,
        logger: this.log,
        telemetry: context.telemetry,
        endpoint: context.endpoint,
      });
      this.currentRelay.start();
    }
    const attributes = { [MessagingAttributes.endpoint]: context.endpoint };
    this.stopObserving = context.telemetry?.observe(
      (instruments) => [instruments.outboxBacklog, instruments.outboxOldestAge],
      async (record) => {
        const health = await this.health();
        const instruments = context.telemetry?.instruments();
        if (!instruments) return;
        record(instruments.outboxBacklog, health.backlog, attributes);
        record(instruments.outboxOldestAge, health.oldestAgeMs / 1000, attributes);
      },
    );
    this.cleanupTimer = setInterval(() => void this.cleanupInboxQuietly(), this.inboxCleanupIntervalMs);
    this.cleanupTimer.unref?.();
  }

  /** Stops the relay after its batch in progress and the inbox cleanup. Idempotent. */
  async stop(): Promise<void> {
    this.stopObserving?.();
    this.stopObserving = undefined;
    clearInterval(this.cleanupTimer);
    this.cleanupTimer = undefined;
    const relay = this.currentRelay;
    this.currentRelay = undefined;
    await relay?.stop();
    await this.cleaning;
    this.endpoint = undefined;
  }

  /** Runs `work` in one transaction; after a commit that wrote outbox rows, wakes the relay at once. */
  async transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    const state = { wroteOutbox: false };
    const result = await this.database.transaction(async (tx) => {
      this.openTransactions.set(tx, state);
      try {
        return await work(tx);
      } finally {
        this.openTransactions.delete(tx);
      }
    });
    if (state.wroteOutbox) this.wake();
    return result;
  }

  /** Records (endpoint, message id) in the inbox inside `tx`; false for a duplicate. */
  recordInbox(tx: Tx, endpoint: string, messageId: string): Promise<boolean> {
    return this.inbox.record(tx, endpoint, messageId);
  }

  /**
   * Writes messages to the outbox inside `tx`. Inside `transaction()` the relay wakes right after
   * the commit; in a transaction you opened yourself it finds them at its next poll, or at once if
   * you call `wake()` after committing.
   */
  async addToOutbox(tx: Tx, messages: readonly OutboxMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.outbox.add(tx, messages);
    const state = this.openTransactions.get(tx);
    if (state) state.wroteOutbox = true;
  }

  /** The outbox's backlog and the age of its oldest unsent row (one count query); rejects when the database cannot be reached. */
  async health(): Promise<OutboxHealth> {
    const counts = await this.outbox.counts();
    const oldest = counts.oldestUnsentAt;
    return {
      relaying: this.currentRelay !== undefined,
      backlog: counts.unsent,
      oldestAgeMs: counts.unsent > 0 && oldest !== undefined ? Math.max(0, Date.now() - oldest.getTime()) : 0,
    };
  }

  /** Wakes the relay of this process (no-op when it does not relay or is stopped), and the outbox store when it delivers by itself. */
  wake(): void {
    this.currentRelay?.wake();
    this.outbox.wake?.();
  }

  /** Deletes inbox records older than the retention now; returns how many. */
  async cleanupInbox(): Promise<number> {
    const before = new Date(Date.now() - this.inboxRetentionMs);
    let total = 0;
    for (let i = 0; i < 20; i++) {
      const deleted = await this.inbox.purge(before, 1000);
      total += deleted;
      if (deleted < 1000) break;
    }
    return total;
  }

  private async cleanupInboxQuietly(): Promise<void> {
    if (this.cleaning) return;
    this.cleaning = this.cleanupInbox()
      .then((purged) => {
        if (purged > 0) this.log?.debug({ purged }, 'deleted inbox records past their retention');
      })
      .catch((error) => this.log?.warn({ err: error }, 'inbox cleanup failed; retrying at the next interval'))
      .finally(() => {
        this.cleaning = undefined;
      });
    await this.cleaning;
  }
}

/** Creates a {@link StorePersistence}: what `@mailroom/postgres` and `@mailroom/sqlite` return. */
export function createStorePersistence<Tx>(options: StorePersistenceOptions<Tx>): StorePersistence<Tx> {
  return new StorePersistence(options);
}
