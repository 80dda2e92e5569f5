import type { OperationClassifier, OperationEntryKind, OperationStore } from '@mailroom/core';
import {
  type AnyContract,
  createDefaultLogger,
  createEndpoint,
  type Endpoint,
  type EventContract,
  type HandlerContext,
  type Logger,
  MailroomError,
  type RecoverabilityConfig,
  type Transport,
} from '@mailroom/core';
import { checkNumberOption, POSITIVE } from '@mailroom/core/internal';
import { HttpErrorCodes } from '../errors.js';
import { httpInstruments } from '../http-telemetry.js';
import { classifierFor, type OperationDefinition } from './define-operation.js';

/** Options of {@link createOperationTracker}. */
export interface OperationTrackerOptions {
  /** The transport the tracker's own endpoint consumes from. */
  transport: Transport;
  /** Where operations are kept; `migrate()` is run on start. */
  store: OperationStore;
  /** The operations to follow. */
  operations: readonly OperationDefinition<AnyContract>[];
  /** The tracker endpoint's name (its queue); several processes with one name share the work. Default `operations`. */
  name?: string;
  /** How often timeouts are checked (and old early events purged). Default 1000 ms. */
  sweepIntervalMs?: number;
  /** How long an event for an operation not recorded yet is kept, waiting for it. Default 10 minutes. */
  earlyEventTtlMs?: number;
  /**
   * Events handled at once by this process. Default 1, which records the events of an operation in
   * the order the transport delivers them. With more (or with several tracker processes), events of
   * one operation may be recorded out of order, and a step recorded after the terminal event is
   * ignored like any event for a finished operation.
   */
  concurrency?: number;
  recoverability?: Partial<RecoverabilityConfig>;
  logger?: Logger;
}

/** The tracker: its endpoint, started and stopped together with its timeout sweeper. */
export interface OperationTracker {
  readonly endpoint: Endpoint;
  /** Migrates the store, starts consuming and starts the sweeper. */
  start(): Promise<void>;
  /** Stops the sweeper and the endpoint (not the transport nor the store's connection). Idempotent. */
  stop(): Promise<void>;
  /** Runs one sweep now: turns overdue operations `timed-out` and purges stale early events. Resolves with the timed-out ids. */
  sweep(now?: Date): Promise<string[]>;
}

function positive(value: number | undefined, fallback: number, what: string): number {
  return checkNumberOption(value ?? fallback, `createOperationTracker: ${what} (milliseconds)`, POSITIVE, operationConfigError);
}

function operationConfigError(message: string): MailroomError {
  return new MailroomError(HttpErrorCodes.OPERATION_CONFIG, message);
}

/**
 * Follows operations as their own endpoint: subscribes to every event of the given definitions and
 * records each, keyed by its correlation id (the operation id), in the store. Guarantees: an event
 * is acknowledged only after the store committed it (a store failure goes through the endpoint's
 * recoverability); duplicates, events for finished operations and events unrelated to an
 * operation are acknowledged and ignored; an event for an operation not recorded yet is kept in the
 * store and applied when the operation is recorded (or purged after `earlyEventTtlMs`); a starting
 * event records its operation; pending operations past their deadline turn `timed-out` within
 * `sweepIntervalMs`. Throws `MAILROOM_ERR_OPERATION_CONFIG` for bad options.
 */
export function createOperationTracker(options: OperationTrackerOptions): OperationTracker {
  const { store, transport } = options ?? {};
  if (!store || typeof store.append !== 'function')
    throw new MailroomError(HttpErrorCodes.OPERATION_CONFIG, 'createOperationTracker needs store: an OperationStore');
  const definitions = options.operations ?? [];
  if (definitions.length === 0)
    throw new MailroomError(HttpErrorCodes.OPERATION_CONFIG, 'createOperationTracker needs operations: at least one defineOperation(...)');
  const names = new Set<string>();
  for (const definition of definitions) {
    if (names.has(definition.name))
      throw new MailroomError(HttpErrorCodes.OPERATION_CONFIG, `createOperationTracker: two operations are named ${definition.name}`);
    names.add(definition.name);
  }
  const sweepIntervalMs = positive(options.sweepIntervalMs, 1000, 'sweepIntervalMs');
  const earlyEventTtlMs = positive(options.earlyEventTtlMs, 10 * 60_000, 'earlyEventTtlMs');
  const log = (options.logger ?? createDefaultLogger()).child({ component: 'operation-tracker' });
  const classify = classifierFor(definitions);
  const endpoint = createEndpoint({
    name: options.name ?? 'operations',
    transport,
    logger: log,
    concurrency: options.concurrency ?? 1,
    ...(options.recoverability !== undefined && { recoverability: options.recoverability }),
  });

  // One handler per event type, whatever number of operations use it; the newest contract version wins.
  const contracts = new Map<string, EventContract>();
  for (const definition of definitions) {
    for (const contract of definition.events) {
      const known = contracts.get(contract.type);
      if (!known || known.version < contract.version) contracts.set(contract.type, contract);
    }
  }
  const startersOf = (type: string) => definitions.filter((definition) => definition.startedBy.kind === 'event' && definition.startedBy.type === type);

  const handle = async (message: unknown, ctx: HandlerContext) => {
    const { envelope } = ctx;
    const operationId = envelope.correlationid;
    const at = new Date(envelope.time);
    for (const definition of startersOf(envelope.type)) {
      const created = await store.create(
        {
          id: operationId,
          name: definition.name,
          steps: definition.steps,
          startedAt: at,
          deadline: new Date(at.getTime() + definition.timeoutMs),
          started: { type: envelope.type, messageId: envelope.id },
        },
        classify,
      );
      if (created) {
        ctx.log.debug({ operationId, operation: definition.name }, 'operation recorded from its starting event');
        return;
      }
    }
    let kind: OperationEntryKind | undefined;
    const classifying: OperationClassifier = (name, event) => {
      const role = classify(name, event);
      kind = role?.kind;
      return role;
    };
    const outcome = await store.append(operationId, { type: envelope.type, messageId: envelope.id, at, data: message }, classifying);
    ctx.log.debug({ operationId, outcome }, `operation event ${outcome}`);
    if (outcome === 'recorded' && (kind === 'completed' || kind === 'failed')) await recordFinished(operationId, kind, at);
  };
  /** Counts an operation that reached a final state and records its duration (`mailroom.operations.finished`, `mailroom.operation.duration`). */
  const recordFinished = async (operationId: string, state: OperationEntryKind, at: Date) => {
    try {
      const stored = await store.read(operationId, Number.MAX_SAFE_INTEGER);
      if (!stored) return;
      const attributes = { 'mailroom.operation.name': stored.operation.name, 'mailroom.operation.state': state };
      const instruments = httpInstruments();
      instruments.operationsFinished.add(1, attributes);
      instruments.operationDuration.record(Math.max(0, at.getTime() - Date.parse(stored.operation.startedAt)) / 1000, attributes);
    } catch (error) {
      log.debug({ err: error, operationId }, 'could not read a finished operation for its metrics');
    }
  };
  for (const contract of contracts.values()) endpoint.on(contract, handle);

  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<unknown> | undefined;
  const sweep = async (now = new Date()) => {
    const expired = await store.expire(now);
    if (expired.length > 0) log.info({ operations: expired }, `${expired.length} operation(s) timed out`);
    for (const id of expired) await recordFinished(id, 'timed-out', now);
    await store.purgeEarly(new Date(now.getTime() - earlyEventTtlMs));
    return expired;
  };
  const tick = () => {
    if (sweeping) return;
    sweeping = sweep()
      .catch((error) => log.warn({ err: error }, 'operation sweep failed; retrying at the next interval'))
      .finally(() => {
        sweeping = undefined;
      });
  };

  return {
    endpoint: endpoint as Endpoint,
    async start() {
      await store.migrate();
      await endpoint.start();
      if (!timer) {
        timer = setInterval(tick, sweepIntervalMs);
        timer.unref?.();
      }
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await sweeping;
      await endpoint.stop();
    },
    sweep,
  };
}
