import { ErrorCodes, errorMessage, MailroomError } from './errors.js';
import { assertNonNegative, assertPositiveInteger } from './internal/persistence-config.js';
import { exponentialDelay } from './internal/timing.js';
import { Waker } from './internal/waker.js';
import { createDefaultLogger, type Logger } from './logger.js';
import type { OutboxClaim, OutboxFailure, OutboxRecord, OutboxStore } from './outbox.js';
import { sendTraced } from './telemetry/endpoint-telemetry.js';
import { MessagingAttributes } from './telemetry/messaging-attributes.js';
import type { Telemetry } from './telemetry/telemetry.js';
import type { MessageTransport, OutgoingMessage } from './transport.js';

/** Tuning of a relay; every field is optional and has a default. */
export interface RelayTuning {
  /** Most rows claimed per batch. Default 100. */
  batchSize?: number;
  /** Most publishes in flight at once within a batch (rows of one ordering key always go one at a time). Default 16. */
  publishConcurrency?: number;
  /** The safety-net poll: how long the relay sleeps when nothing woke it. Default 1000 ms. */
  pollIntervalMs?: number;
  /** Delay before a row the transport refused is tried again, doubled per failed attempt. Default 1000 ms. */
  retryDelayMs?: number;
  /** Cap of that delay. Default 60 000 ms. */
  maxRetryDelayMs?: number;
  /** How long sent rows are kept before cleanup deletes them (for inspection). Default 1 hour; 0 deletes them at the next cleanup. */
  retentionMs?: number;
  /** How often the relay deletes sent rows older than the retention. Default 60 000 ms. */
  cleanupIntervalMs?: number;
  /** Most delay between retries after a database error (claim or mark-sent failed). Default 5000 ms. */
  maxErrorBackoffMs?: number;
}

/** Options of {@link createRelay}. */
export interface RelayOptions extends RelayTuning {
  /** The outbox to drain. */
  store: OutboxStore<any>;
  /** Where the messages go; the relay marks a row sent only after `transport.publish` resolved (broker confirm). */
  transport: MessageTransport;
  logger?: Logger;
  /**
   * Traces each publish in a "send" span, child of the context the message was created in (stored
   * with the row), and records `messaging.client.sent.messages` and `mailroom.outbox.lag`. Default: none.
   */
  telemetry?: Telemetry | undefined;
  /** The endpoint whose outbox this is, for metric attributes. */
  endpoint?: string;
}

/** A relay's tuning with every default filled in. */
export type RelaySettings = Required<RelayTuning>;

/** Fills in the defaults of a relay's tuning and checks it; throws `MAILROOM_ERR_PERSISTENCE_CONFIG` naming the bad option. */
export function resolveRelaySettings(tuning: RelayTuning = {}): RelaySettings {
  return {
    batchSize: assertPositiveInteger(tuning.batchSize ?? 100, 'relay batchSize'),
    publishConcurrency: assertPositiveInteger(tuning.publishConcurrency ?? 16, 'relay publishConcurrency'),
    pollIntervalMs: assertPositiveInteger(tuning.pollIntervalMs ?? 1000, 'relay pollIntervalMs'),
    retryDelayMs: assertNonNegative(tuning.retryDelayMs ?? 1000, 'relay retryDelayMs'),
    maxRetryDelayMs: assertNonNegative(tuning.maxRetryDelayMs ?? 60_000, 'relay maxRetryDelayMs'),
    retentionMs: assertNonNegative(tuning.retentionMs ?? 3_600_000, 'relay retentionMs'),
    cleanupIntervalMs: assertPositiveInteger(tuning.cleanupIntervalMs ?? 60_000, 'relay cleanupIntervalMs'),
    maxErrorBackoffMs: assertPositiveInteger(tuning.maxErrorBackoffMs ?? 5000, 'relay maxErrorBackoffMs'),
  };
}

/** A handle returned by the relay's `onX` methods; `dispose()` removes the listener. */
export interface Disposable {
  dispose(): void;
}

/** Emitted after the transport confirmed a batch's messages and before they are marked sent. */
export interface RelayPublishedEvent {
  /** Ids of the rows the transport confirmed. */
  readonly sent: readonly string[];
  /** Ids of the rows the transport refused. */
  readonly failed: readonly string[];
  /** Milliseconds from the claim to the last confirm. */
  readonly publishMs: number;
}

/** Emitted after a batch was settled in the database. */
export interface RelayBatchEvent {
  readonly claimed: number;
  readonly sent: number;
  readonly failed: number;
  /** Milliseconds from the claim to the end of mark-sent. */
  readonly durationMs: number;
  /** Age in milliseconds of the oldest sent row when it was confirmed (write to confirm latency). */
  readonly oldestAgeMs: number | undefined;
}

/** Emitted when the relay hit an error; it keeps running and tries again. */
export interface RelayErrorEvent {
  readonly error: unknown;
  /** `claim`, `complete` (mark-sent), `publish` (a refused message) or `cleanup`. */
  readonly phase: 'claim' | 'complete' | 'publish' | 'cleanup';
}

/** Counters since the relay was created; read them for metrics. */
export interface RelayStats {
  /** Claims made, empty or not (each is one look at the outbox). */
  claims: number;
  /** Batches claimed that held at least one row. */
  batches: number;
  claimed: number;
  /** Rows confirmed by the transport and marked sent. */
  sent: number;
  /** Publishes the transport refused (each is retried later). */
  failed: number;
  /** Database errors (claim, mark-sent, cleanup). */
  errors: number;
  /** Sent rows deleted by cleanup. */
  purged: number;
  /** Times the relay was woken by a local commit or `wake()`. */
  wakes: number;
}

type Listener<E> = (event: E) => void;

const CLEANUP_CHUNK = 1000;
const MAX_CLEANUP_CHUNKS = 20;

/**
 * The outbox relay: claims unsent rows, publishes them through the transport and marks them sent
 * only after the broker confirmed them. Guarantees: every committed outbox row is published at
 * least once (a crash between confirm and mark-sent publishes it again: the inbox of the consumer
 * drops the duplicate); rows of one ordering key leave one at a time, oldest first; several relays
 * on one outbox do not publish a row concurrently while both live, because a relay starts no
 * publish in the last quarter of its claim (before the claim can expire and the rows go to another
 * relay) and releases the rows it did not reach to its next claim; only a single publish outlasting
 * that quarter can still be in flight when another relay takes the rows. A scheduled row (with a
 * `deliverAt`) is published at once with its time, and the transport holds it; only a row scheduled
 * further ahead than the transport's `maxScheduleDelayMs` stays in the outbox until it is within
 * that reach (it counts as a failed attempt then, so its key waits with it). It wakes at once on
 * `wake()` (called after a local commit) and polls as a safety net; database errors back off and retry.
 */
export class Relay {
  /** Counters for metrics; see {@link RelayStats}. */
  readonly stats: RelayStats = { claims: 0, batches: 0, claimed: 0, sent: 0, failed: 0, errors: 0, purged: 0, wakes: 0 };
  private readonly store: OutboxStore<any>;
  private readonly transport: MessageTransport;
  private readonly log: Logger;
  private readonly settings: RelaySettings;
  private readonly telemetry: Telemetry | undefined;
  private readonly endpoint: string | undefined;
  private readonly listeners = {
    published: new Set<Listener<RelayPublishedEvent>>(),
    batch: new Set<Listener<RelayBatchEvent>>(),
    error: new Set<Listener<RelayErrorEvent>>(),
  };
  private loop: Promise<void> | undefined;
  private running = false;
  /** Counts starts: a loop runs only while its start is the latest one. */
  private generation = 0;
  /** Ends the poll sleep: `wake()` and `stop()`. Its timer keeps the process alive, as a relay alone in its process must. */
  private readonly wakes = new Waker({ keepAlive: true });
  /** Ends an error backoff, which ignores wakes: closed by `stop()`, a new one per `start()`. */
  private halt = new Waker({ keepAlive: true });
  private nextCleanupAt = 0;
  /** What the loop was doing when an error came: the phase reported by `onError`. */
  private phase: 'claim' | 'complete' = 'claim';

  constructor(options: RelayOptions) {
    if (typeof options !== 'object' || options === null || !options.store || typeof options.store.claim !== 'function') {
      throw new MailroomError(ErrorCodes.PERSISTENCE_CONFIG, 'createRelay needs { store, transport }: an outbox store (PostgreSQL or SQLite) and a transport');
    }
    if (!options.transport || typeof options.transport.publish !== 'function') {
      throw new MailroomError(ErrorCodes.PERSISTENCE_CONFIG, 'createRelay: "transport" must be a Mailroom transport');
    }
    this.store = options.store;
    this.transport = options.transport;
    this.log = (options.logger ?? createDefaultLogger()).child({ component: 'relay' });
    this.settings = resolveRelaySettings(options);
    this.telemetry = options.telemetry;
    this.endpoint = options.endpoint;
  }

  /** True between `start()` and `stop()`. */
  get started(): boolean {
    return this.running;
  }

  /** Starts relaying in the background. Idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.halt = new Waker({ keepAlive: true });
    const generation = ++this.generation;
    // A stop still in progress ends its loop first: one loop at a time.
    const previous = this.loop;
    this.loop = (async () => {
      await previous;
      await this.run(generation);
    })();
  }

  /** Stops after the batch in progress (its publishes finish and are marked sent). Idempotent. */
  async stop(): Promise<void> {
    this.running = false;
    this.wakes.wake();
    this.halt.close();
    const loop = this.loop;
    await loop;
    if (this.loop === loop) this.loop = undefined;
  }

  /** Makes the relay look for rows now instead of at its next poll; call it after committing outbox rows. */
  wake(): void {
    this.stats.wakes += 1;
    this.wakes.wake();
  }

  /** Calls `listener` after the transport confirmed a batch and before it is marked sent. */
  onPublished(listener: Listener<RelayPublishedEvent>): Disposable {
    return this.listen(this.listeners.published, listener);
  }

  /** Calls `listener` after each non-empty batch was settled. */
  onBatch(listener: Listener<RelayBatchEvent>): Disposable {
    return this.listen(this.listeners.batch, listener);
  }

  /** Calls `listener` on every error the relay recovers from. */
  onError(listener: Listener<RelayErrorEvent>): Disposable {
    return this.listen(this.listeners.error, listener);
  }

  /**
   * Claims one batch, publishes it and marks it sent. Resolves with the batch's event, or
   * undefined when nothing was due. Throws when the database fails (the rows are claimed again later).
   */
  async runOnce(): Promise<RelayBatchEvent | undefined> {
    const started = performance.now();
    this.phase = 'claim';
    const claim = await this.store.claim(this.settings.batchSize);
    this.stats.claims += 1;
    if (claim.records.length === 0) {
      await this.complete(claim, [], []);
      return undefined;
    }
    let sent: string[] = [];
    let failed: OutboxFailure[] = [];
    let oldestAgeMs: number | undefined;
    try {
      ({ sent, failed, oldestAgeMs } = await this.publishAll(claim.records, publishDeadline(claim.expiresAt)));
      const released = claim.records.length - sent.length - failed.length;
      if (released > 0) {
        this.log.warn(
          { claimed: claim.records.length, sent: sent.length, released },
          'the outbox claim was running out before every row was published; the rest go in the next claim (a slow broker, or a claim timeout too short for the batch)',
        );
      }
      this.emit(this.listeners.published, { sent, failed: failed.map((f) => f.id), publishMs: performance.now() - started });
    } finally {
      await this.complete(claim, sent, failed);
    }
    const event: RelayBatchEvent = {
      claimed: claim.records.length,
      sent: sent.length,
      failed: failed.length,
      durationMs: performance.now() - started,
      oldestAgeMs,
    };
    this.stats.batches += 1;
    this.stats.claimed += event.claimed;
    this.stats.sent += event.sent;
    this.emit(this.listeners.batch, event);
    return event;
  }

  /** Deletes sent rows older than the retention now; returns how many. */
  async cleanup(): Promise<number> {
    const before = new Date(Date.now() - this.settings.retentionMs);
    let total = 0;
    for (let i = 0; i < MAX_CLEANUP_CHUNKS; i++) {
      const deleted = await this.store.purgeSent(before, CLEANUP_CHUNK);
      total += deleted;
      if (deleted < CLEANUP_CHUNK) break;
    }
    this.stats.purged += total;
    return total;
  }

  private async run(generation: number): Promise<void> {
    // This generation's backoff signal: a stop() closes it even when a start() made a new one since.
    const halt = this.halt;
    const current = () => this.running && generation === this.generation;
    let failures = 0;
    while (current()) {
      // The batch about to be claimed sees what a wake before it announced.
      this.wakes.take();
      let batch: RelayBatchEvent | undefined;
      try {
        batch = await this.runOnce();
        failures = 0;
      } catch (error) {
        failures += 1;
        this.recordError(this.phase, error, failures);
        // A dead database is not hammered: the backoff ignores wakes, only stop() ends it early.
        if (current()) await halt.wait(exponentialDelay(failures + 1, 50, this.settings.maxErrorBackoffMs));
        continue;
      }
      if (Date.now() >= this.nextCleanupAt) await this.cleanupQuietly();
      // After a batch, look again at once: more rows may be due. Sleep only when the outbox had nothing.
      if (!batch && current()) await this.wakes.wait(this.settings.pollIntervalMs);
    }
  }

  private async cleanupQuietly(): Promise<void> {
    this.nextCleanupAt = Date.now() + this.settings.cleanupIntervalMs;
    try {
      const purged = await this.cleanup();
      if (purged > 0) this.log.debug({ purged }, 'deleted sent outbox rows past their retention');
    } catch (error) {
      this.recordError('cleanup', error, 1);
    }
  }

  private recordError(phase: RelayErrorEvent['phase'], error: unknown, failures: number): void {
    this.stats.errors += 1;
    this.log.warn({ err: error, phase, failures }, 'outbox relay error; retrying');
    this.emit(this.listeners.error, { error, phase });
  }

  private async complete(claim: OutboxClaim, sent: string[], failed: OutboxFailure[]): Promise<void> {
    this.phase = 'complete';
    await claim.complete({ sent, failed });
  }

  /**
   * Publishes records: rows without a key in parallel, rows of one key one after another; a refused
   * row stops its key. Starts no publish at or after `deadline`: the rows not reached are left out.
   */
  private async publishAll(
    records: readonly OutboxRecord[],
    deadline: number,
  ): Promise<{ sent: string[]; failed: OutboxFailure[]; oldestAgeMs: number | undefined }> {
    const lanes: OutboxRecord[][] = [];
    const byKey = new Map<string, OutboxRecord[]>();
    for (const record of records) {
      const key = record.message.orderingKey;
      if (key === undefined) {
        lanes.push([record]);
        continue;
      }
      let lane = byKey.get(key);
      if (!lane) {
        lane = [];
        byKey.set(key, lane);
        lanes.push(lane);
      }
      lane.push(record);
    }
    const sent: string[] = [];
    const failed: OutboxFailure[] = [];
    let oldest: number | undefined;
    let next = 0;
    let late = false;
    const worker = async () => {
      while (next < lanes.length) {
        const lane = lanes[next++] as OutboxRecord[];
        for (const record of lane) {
          if (late || Date.now() >= deadline) {
            late = true;
            return;
          }
          const { route, headers, body, deliverAt } = record.message;
          const holdUntil = this.holdUntil(deliverAt);
          if (holdUntil !== undefined) {
            // Scheduled further ahead than the transport can hold it: it waits in the outbox until it can.
            failed.push({
              id: record.id,
              error: `scheduled for ${deliverAt?.toISOString()}, beyond the transport's maxScheduleDelayMs: held in the outbox`,
              retryAt: holdUntil,
            });
            break;
          }
          try {
            await this.publish({ route, headers, body, ...(deliverAt !== undefined && { deliverAt }) });
            sent.push(record.id);
            const age = Date.now() - record.createdAt.getTime();
            this.recordLag(age, route.kind === 'event' ? route.type : route.destination);
            if (oldest === undefined || age > oldest) oldest = age;
          } catch (error) {
            failed.push({ id: record.id, error: errorMessage(error).slice(0, 1000), retryAt: new Date(Date.now() + this.retryDelay(record.attempts)) });
            this.stats.failed += 1;
            this.log.warn({ err: error, outboxId: record.id, attempts: record.attempts + 1 }, 'the transport refused an outbox message; it will be retried');
            this.emit(this.listeners.error, { error, phase: 'publish' });
            break;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.settings.publishConcurrency, lanes.length) }, worker));
    return { sent, failed, oldestAgeMs: oldest };
  }

  /** Publishes one row's message, in a "send" span when telemetry is on. */
  private publish(message: OutgoingMessage): Promise<void> {
    if (!this.telemetry) return this.transport.publish(message);
    const attributes = this.endpoint === undefined ? {} : { [MessagingAttributes.endpoint]: this.endpoint };
    return sendTraced(this.telemetry, this.transport.name, message, () => this.transport.publish(message), attributes);
  }

  private recordLag(ageMs: number, destination: string): void {
    if (!this.telemetry) return;
    this.telemetry.instruments().outboxLag.record(Math.max(0, ageMs) / 1000, {
      [MessagingAttributes.system]: this.transport.name,
      [MessagingAttributes.destinationName]: destination,
      ...(this.endpoint !== undefined && { [MessagingAttributes.endpoint]: this.endpoint }),
    });
  }

  /**
   * When a message scheduled for `deliverAt` is further ahead than the transport schedules (a
   * transport with a smaller `maxScheduleDelayMs` than the endpoint that wrote it): the time from
   * which the transport can take it. Undefined when it can take it now.
   */
  private holdUntil(deliverAt: Date | undefined): Date | undefined {
    if (deliverAt === undefined) return undefined;
    const max = this.transport.capabilities.maxScheduleDelayMs ?? 0;
    const from = deliverAt.getTime() - max;
    return from > Date.now() ? new Date(from) : undefined;
  }

  private retryDelay(attempts: number): number {
    return exponentialDelay(attempts + 1, this.settings.retryDelayMs, this.settings.maxRetryDelayMs);
  }

  private listen<E>(set: Set<Listener<E>>, listener: Listener<E>): Disposable {
    set.add(listener);
    return { dispose: () => set.delete(listener) };
  }

  private emit<E>(set: Set<Listener<E>>, event: E): void {
    for (const listener of set) {
      try {
        listener(event);
      } catch (error) {
        this.log.warn({ err: error }, 'a relay listener threw');
      }
    }
  }
}

/**
 * The time after which a relay starts no publish of a claim expiring at `expiresAt`: three quarters
 * of the way there, leaving the last quarter for publishes in flight to be confirmed and for
 * `complete` (on PostgreSQL, a claim that expired can no longer be completed).
 */
function publishDeadline(expiresAt: Date): number {
  const now = Date.now();
  return now + Math.max(0, expiresAt.getTime() - now) * 0.75;
}

/** Creates a {@link Relay} (not started: call `start()`). Throws `MAILROOM_ERR_PERSISTENCE_CONFIG` for bad options. */
export function createRelay(options: RelayOptions): Relay {
  return new Relay(options);
}
