import type { StandardSchemaV1 } from '@standard-schema/spec';
import { type AnyContract, isContract, type MessageOf } from './contract.js';
import type { Envelope } from './envelope.js';
import { ErrorCodes, MailroomError } from './errors.js';
import type { HandlerContext } from './handler.js';

/** When a saga timeout fires: after a delay from now, or at a point in time. */
export type TimeoutWhen = { readonly delayMs: number; readonly deliverAt?: never } | { readonly deliverAt: Date; readonly delayMs?: never };

/**
 * What a saga handler receives besides the state and the message: the endpoint's handler context
 * (publish and send go through the outbox and commit together with the state change) plus the
 * saga's own operations.
 */
export interface SagaContext<S, Tx = any> extends HandlerContext<Tx> {
  /** The instance's state. Mutate it in place, or return a new state from the handler. */
  state: S;
  /** The correlation key of this instance. */
  readonly sagaKey: string;
  /** Identifies this run of the saga for its key (a key can run again after completion). */
  readonly instanceId: string;
  /**
   * Schedules the timeout `name` for this instance: a message to this endpoint delivered at
   * `deliverAt` (or after `delayMs`), written to the outbox with the state change. When it arrives
   * after the instance completed (or for an older instance of the key) it is ignored with a debug log.
   */
  requestTimeout(name: string, when: TimeoutWhen, data?: unknown): Promise<Envelope>;
  /** Marks the instance completed once this handler commits: later messages and timeouts for it are ignored. */
  complete(): void;
  /** Whether `complete()` was called. */
  readonly completed: boolean;
  /**
   * Records a compensation step (one of the saga's `compensations`) that undoes what this handler
   * did. Steps are saved with the state and run, newest first, by `compensate()`.
   */
  addCompensation(step: string, data?: unknown): void;
  /**
   * Runs the recorded compensation steps, newest first, in this handler's transaction (what they
   * publish or send commits with the state change), and forgets them.
   */
  compensate(): Promise<void>;
}

/** What a saga handler returns: nothing (the state was mutated in place, or left alone) or the new state. */
// biome-ignore lint/suspicious/noConfusingVoidType: an async handler that returns nothing is typed Promise<void>
export type SagaResult<S> = S | undefined | void | Promise<S | undefined | void>;

/** A saga timeout: an optional schema for its data and the handler that runs when it fires. */
export interface SagaTimeout<S, Tx = any> {
  /** Validates the data given to `requestTimeout` when the timeout fires. */
  schema?: StandardSchemaV1;
  handler: (state: S, data: any, ctx: SagaContext<S, Tx>) => SagaResult<S>;
}

/** A compensation step: undoes one thing the saga did (typically by sending a command). */
export type SagaCompensation<S, Tx = any> = (state: S, data: any, ctx: SagaContext<S, Tx>) => unknown;

type OfType<C extends AnyContract, T> = MessageOf<Extract<C, { readonly type: T }>>;
type Handlers<S, C extends AnyContract, Tx> = { [T in C['type']]: (state: S, message: OfType<C, T>, ctx: SagaContext<S, Tx>) => SagaResult<S> };
type Correlations<C extends AnyContract> = { [T in C['type']]: (message: OfType<C, T>, envelope: Envelope) => string };

/** What to do with a message that correlates to no saga instance and does not start one. */
export type NotStartedAction = 'dead-letter' | 'ignore' | 'retry';

/** The definition given to {@link defineSaga}. */
export interface SagaDefinition<S, Start extends readonly AnyContract[], Handles extends readonly AnyContract[], Tx = any> {
  /** Names the saga: its rows in the saga table and its timeout messages. Letters, digits, `_`, `.`, `-`; at most 100 characters. */
  name: string;
  /** The messages that start an instance (when none runs for their key). */
  startedBy: Start;
  /** The messages an instance handles once started. */
  handles?: Handles;
  /** For every contract in `startedBy` and `handles`, by type: the key of the instance a message belongs to (non-empty). */
  correlateBy: Correlations<Start[number] | Handles[number]>;
  /** The state of a new instance, from the message that starts it (its handler then runs on it). */
  initial: (message: MessageOf<Start[number]>, envelope: Envelope) => S;
  /** Validates the state when it is loaded and before it is saved (Standard Schema: zod, valibot...). */
  state?: StandardSchemaV1<unknown, S>;
  /** For every contract in `startedBy` and `handles`, by type: what to do with the message. */
  handlers: Handlers<S, Start[number] | Handles[number], Tx>;
  /** The timeouts the instance can request, by name. */
  timeouts?: Record<string, SagaTimeout<S, Tx>>;
  /** The compensation steps handlers can record, by name. */
  compensations?: Record<string, SagaCompensation<S, Tx>>;
  /**
   * A message that correlates to no instance and does not start one: `dead-letter` (default,
   * `MAILROOM_ERR_SAGA_NOT_STARTED` at once), `ignore` (debug log), or `retry` (the same error,
   * retryable: the endpoint's recoverability retries the message, for a message that may overtake
   * the one starting its instance, and dead-letters it once the retries are spent).
   */
  onNotStarted?: NotStartedAction;
}

/** A checked saga definition, made by {@link defineSaga}; register it with `endpoint.saga(saga)`. */
export interface Saga<S = unknown, Tx = any> {
  readonly name: string;
  readonly startedBy: readonly AnyContract[];
  readonly handles: readonly AnyContract[];
  readonly correlateBy: Readonly<Record<string, (message: any, envelope: Envelope) => string>>;
  readonly initial: (message: any, envelope: Envelope) => S;
  readonly stateSchema: StandardSchemaV1 | undefined;
  readonly handlers: Readonly<Record<string, (state: S, message: any, ctx: SagaContext<S, Tx>) => SagaResult<S>>>;
  readonly timeouts: Readonly<Record<string, SagaTimeout<S, Tx>>>;
  readonly compensations: Readonly<Record<string, SagaCompensation<S, Tx>>>;
  readonly onNotStarted: NotStartedAction;
}

const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]{0,99}$/;

/**
 * Defines a saga: a long-running process whose typed state lives in the service's database, one
 * instance per correlation key. Checks the definition at once and throws
 * `MAILROOM_ERR_SAGA_DEFINITION` for a bad name, a contract without a correlation or handler, a
 * contract listed twice, or a handler, timeout or compensation that is not a function.
 */
export function defineSaga<S, const Start extends readonly AnyContract[], const Handles extends readonly AnyContract[] = [], Tx = any>(
  definition: SagaDefinition<S, Start, Handles, Tx>,
): Saga<S, Tx> {
  if (typeof definition !== 'object' || definition === null) throw definitionError('?', 'defineSaga needs a definition object');
  const { name } = definition;
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw definitionError(String(name), "the name must start with a letter and use only letters, digits, '_', '.', '-' (at most 100 characters)");
  }
  const startedBy = contracts(name, definition.startedBy, 'startedBy');
  if (startedBy.length === 0) throw definitionError(name, 'startedBy must list at least one contract');
  const handles = contracts(name, definition.handles ?? [], 'handles');
  const correlateBy = (definition.correlateBy ?? {}) as Record<string, unknown>;
  const handlers = (definition.handlers ?? {}) as Record<string, unknown>;
  const seen = new Set<string>();
  for (const contract of [...startedBy, ...handles]) {
    if (seen.has(contract.type)) throw definitionError(name, `${contract.type} is listed twice (in startedBy and handles, or twice in one)`);
    seen.add(contract.type);
    if (typeof correlateBy[contract.type] !== 'function') throw definitionError(name, `correlateBy has no function for ${contract.type}`);
    if (typeof handlers[contract.type] !== 'function') throw definitionError(name, `handlers has no function for ${contract.type}`);
  }
  for (const type of Object.keys(handlers)) if (!seen.has(type)) throw definitionError(name, `handlers.${type} handles a type not in startedBy or handles`);
  if (typeof definition.initial !== 'function') throw definitionError(name, 'initial must be a function returning the state of a new instance');
  const stateSchema = definition.state;
  if (stateSchema !== undefined && typeof stateSchema?.['~standard']?.validate !== 'function') {
    throw definitionError(name, 'state must implement Standard Schema (zod 4, valibot, arktype...)');
  }
  const timeouts = definition.timeouts ?? {};
  for (const [timeout, spec] of Object.entries(timeouts)) {
    if (typeof spec?.handler !== 'function') throw definitionError(name, `timeouts.${timeout}.handler must be a function`);
    if (spec.schema !== undefined && typeof spec.schema?.['~standard']?.validate !== 'function') {
      throw definitionError(name, `timeouts.${timeout}.schema must implement Standard Schema`);
    }
  }
  const compensations = definition.compensations ?? {};
  for (const [step, fn] of Object.entries(compensations)) if (typeof fn !== 'function') throw definitionError(name, `compensations.${step} must be a function`);
  const onNotStarted = definition.onNotStarted ?? 'dead-letter';
  if (onNotStarted !== 'dead-letter' && onNotStarted !== 'ignore' && onNotStarted !== 'retry') {
    throw definitionError(name, `onNotStarted must be 'dead-letter', 'ignore' or 'retry', got ${JSON.stringify(onNotStarted)}`);
  }
  return Object.freeze({
    name,
    startedBy,
    handles,
    correlateBy: correlateBy as Saga<S, Tx>['correlateBy'],
    initial: definition.initial,
    stateSchema,
    handlers: handlers as Saga<S, Tx>['handlers'],
    timeouts,
    compensations,
    onNotStarted,
  });
}

function contracts(name: string, list: unknown, field: string): AnyContract[] {
  if (!Array.isArray(list)) throw definitionError(name, `${field} must be an array of contracts`);
  for (const contract of list)
    if (!isContract(contract)) throw definitionError(name, `${field} holds something that is not a contract made by defineEvent or defineCommand`);
  return [...list];
}

/** The error thrown for a malformed saga definition or registration. */
export function definitionError(name: string, message: string): MailroomError {
  return new MailroomError(ErrorCodes.SAGA_DEFINITION, `Saga ${JSON.stringify(name)}: ${message}`);
}
