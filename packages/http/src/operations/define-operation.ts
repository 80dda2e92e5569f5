import type { OperationClassifier, OperationEntryKind, OperationStep } from '@mailroom/core';
import { type AnyContract, type EventContract, isContract, MailroomError } from '@mailroom/core';
import { HttpErrorCodes } from '../errors.js';

/** A step given with a label for UIs. */
export interface StepOptions {
  readonly event: EventContract;
  readonly label?: string;
}

/** What {@link defineOperation} takes. */
export interface OperationOptions<S extends AnyContract> {
  /** The operation's name: lower-case letters, digits, `_`, `.`, `-` (e.g. `place-order`). */
  name: string;
  /** The message that starts it: a command (sent by `startOperation`) or an event. */
  startedBy: S;
  /** Events marking progress, in the order a UI shows them; each is recorded with its time. */
  steps?: readonly (EventContract | StepOptions)[];
  /** The event (or any of the events) that completes the operation. */
  completesOn: EventContract | readonly EventContract[];
  /** The event (or any of the events) that fails it. */
  failsOn?: EventContract | readonly EventContract[];
  /** Milliseconds after its start at which a still-pending operation turns `timed-out`. */
  timeout: number;
  /**
   * What to keep of an event's payload in the operation's history (returned to browsers): return
   * a JSON value, or undefined to keep nothing. Default: the whole payload of step, completing and
   * failing events. The starting message's payload is never kept.
   */
  project?: (event: { readonly type: string; readonly kind: OperationEntryKind; readonly data: unknown }) => unknown;
}

/**
 * An asynchronous multi-service process as the user sees it, over contracts: started by one
 * message, advanced by step events, ended by a completing or failing event or by its timeout.
 * Immutable; made by {@link defineOperation}.
 */
export interface OperationDefinition<S extends AnyContract = AnyContract> {
  readonly name: string;
  readonly startedBy: S;
  readonly steps: readonly OperationStep[];
  readonly timeoutMs: number;
  /** Every event contract the tracker subscribes to for this operation (the starting one too, when it is an event). */
  readonly events: readonly EventContract[];
  /** The role of a message type in this operation, or undefined when it plays none. */
  roleOf(type: string): OperationEntryKind | undefined;
  /** What the history keeps of an event's payload. */
  project(event: { readonly type: string; readonly kind: OperationEntryKind; readonly data: unknown }): unknown;
}

const NAME = /^[a-z0-9][a-z0-9_.-]{0,99}$/;

function definitionError(name: unknown, message: string): MailroomError {
  return new MailroomError(HttpErrorCodes.OPERATION_DEFINITION, `Operation ${JSON.stringify(name)}: ${message}`);
}

function list<T>(value: T | readonly T[] | undefined): readonly T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

/**
 * Defines an operation over contracts. Throws `MAILROOM_ERR_OPERATION_DEFINITION` at definition
 * time when the name is malformed, a step, completing or failing message is not an event contract,
 * a type plays two roles, nothing completes it, or the timeout is not a positive number of milliseconds.
 */
export function defineOperation<S extends AnyContract>(options: OperationOptions<S>): OperationDefinition<S> {
  const name = options?.name;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw definitionError(name, "the name must use lower-case letters, digits, '_', '.', '-' (at most 100 characters)");
  }
  if (!isContract(options.startedBy)) throw definitionError(name, 'startedBy must be a contract made by defineCommand or defineEvent');
  if (!Number.isFinite(options.timeout) || options.timeout <= 0) {
    throw definitionError(name, `timeout must be a positive number of milliseconds, got ${String(options.timeout)}`);
  }
  const roles = new Map<string, OperationEntryKind>([[options.startedBy.type, 'started']]);
  const events = new Map<string, EventContract>();
  if (options.startedBy.kind === 'event') events.set(options.startedBy.type, options.startedBy as EventContract);
  const add = (contract: unknown, kind: OperationEntryKind, what: string) => {
    if (!isContract(contract) || contract.kind !== 'event') throw definitionError(name, `${what} must be event contracts made by defineEvent`);
    const existing = roles.get(contract.type);
    if (existing) throw definitionError(name, `${contract.type} cannot be both ${existing} and ${kind}`);
    roles.set(contract.type, kind);
    events.set(contract.type, contract as EventContract);
  };
  const steps: OperationStep[] = [];
  for (const step of options.steps ?? []) {
    const contract = isContract(step) ? step : (step as StepOptions)?.event;
    add(contract, 'step', 'steps');
    const label = isContract(step) ? undefined : (step as StepOptions).label;
    steps.push(
      Object.freeze({ type: (contract as EventContract).type, label: typeof label === 'string' && label !== '' ? label : (contract as EventContract).type }),
    );
  }
  const completesOn = list(options.completesOn);
  if (completesOn.length === 0) throw definitionError(name, 'completesOn needs at least one event contract');
  for (const contract of completesOn) add(contract, 'completed', 'completesOn');
  for (const contract of list(options.failsOn)) add(contract, 'failed', 'failsOn');
  if (options.project !== undefined && typeof options.project !== 'function') throw definitionError(name, 'project must be a function');
  const project = options.project ?? ((event: { kind: OperationEntryKind; data: unknown }) => (event.kind === 'started' ? undefined : event.data));
  return Object.freeze({
    name,
    startedBy: options.startedBy,
    steps: Object.freeze(steps),
    timeoutMs: options.timeout,
    events: Object.freeze([...events.values()]),
    roleOf: (type: string) => roles.get(type),
    project: (event: { type: string; kind: OperationEntryKind; data: unknown }) => (event.kind === 'started' ? undefined : project(event)),
  });
}

/**
 * The classifier of a set of definitions: looks the operation's definition up by name and returns
 * the event's role and projected data; undefined for an unknown operation name or an unrelated type.
 */
export function classifierFor(definitions: readonly OperationDefinition[]): OperationClassifier {
  const byName = new Map(definitions.map((definition) => [definition.name, definition]));
  return (operationName, event) => {
    const definition = byName.get(operationName);
    const kind = definition?.roleOf(event.type);
    if (!definition || !kind) return undefined;
    const data = definition.project({ type: event.type, kind, data: event.data });
    return data === undefined ? { kind } : { kind, data };
  };
}
