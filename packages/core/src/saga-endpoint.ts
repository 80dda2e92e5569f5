import type { StandardSchemaV1 } from '@standard-schema/spec';
import { v7 as uuidv7 } from 'uuid';
import { type AnyContract, type CommandContract, defineCommand } from './contract.js';
import type { Envelope } from './envelope.js';
import { ErrorCodes, MailroomError } from './errors.js';
import type { Handler, HandlerContext } from './handler.js';
import { definitionError, type Saga, type SagaContext, type TimeoutWhen } from './saga.js';
import type { CompensationStep, SagaStore, StoredSaga } from './saga-store.js';
import { CANNOT_SCHEDULE, canSchedule } from './schedule.js';
import type { MessageTransport } from './transport.js';
import { validateWith } from './validate.js';

/** Options of `endpoint.saga(saga, options)`. */
export interface SagaOptions<Tx> {
  /** Where the instances live. Default: the saga store of the endpoint's persistence (SQLite or PostgreSQL). */
  store?: SagaStore<Tx>;
}

/** The payload of a saga timeout message. */
export interface SagaTimeoutPayload {
  readonly key: string;
  readonly instanceId: string;
  readonly timeout: string;
  readonly data?: unknown;
}

/** The command type of a saga's timeout messages, sent by the endpoint to itself. */
export function sagaTimeoutType(saga: string): string {
  return `mailroom.saga.${saga}.timeout`;
}

const timeoutPayloadSchema: StandardSchemaV1<SagaTimeoutPayload> = {
  '~standard': {
    version: 1,
    vendor: 'mailroom',
    validate: (value) => {
      const v = value as Partial<SagaTimeoutPayload> | null;
      if (typeof v === 'object' && v !== null && typeof v.key === 'string' && typeof v.instanceId === 'string' && typeof v.timeout === 'string') {
        return { value: v as SagaTimeoutPayload };
      }
      return { issues: [{ message: 'expected { key: string, instanceId: string, timeout: string, data? }' }] };
    },
  },
};

const timeoutJsonSchema = {
  type: 'object',
  required: ['key', 'instanceId', 'timeout'],
  properties: { key: { type: 'string' }, instanceId: { type: 'string' }, timeout: { type: 'string' }, data: {} },
};

/** What a saga registers its handlers on: an `Endpoint` (kept narrow so this module does not import the endpoint). */
export interface SagaHost<Tx> {
  readonly name: string;
  /** What it runs on: a saga with timeouts needs a transport that can schedule messages. */
  readonly transport: Pick<MessageTransport, 'name' | 'capabilities'>;
  on<C extends AnyContract>(contract: C, handler: Handler<C, Tx>): unknown;
}

/**
 * Registers a saga's handlers on an endpoint: one per contract of `startedBy` and `handles`, and
 * one for its timeout command when it has timeouts. Each loads the instance in the handler's
 * transaction, runs the saga handler, and saves the state with the version check, so the state
 * change, the inbox record and the outgoing messages (timeouts included) commit together.
 * Throws `MAILROOM_ERR_SAGA_DEFINITION` when there is no saga store, and when the saga has timeouts
 * but the endpoint's transport cannot schedule messages (so the saga fails at registration, not at
 * its first `requestTimeout`).
 */
export function registerSaga<S, Tx>(endpoint: SagaHost<Tx>, defaultStore: SagaStore<Tx> | undefined, saga: Saga<S, any>, options: SagaOptions<Tx> = {}): void {
  if (typeof saga?.handlers !== 'object' || typeof saga.name !== 'string')
    throw definitionError(String(saga?.name), 'endpoint.saga() takes a saga made by defineSaga');
  const store = options.store ?? defaultStore;
  if (!store) {
    throw definitionError(
      saga.name,
      `endpoint ${endpoint.name} has no saga store: give it SQLite or PostgreSQL persistence, or pass { store } (createMemorySagaStore() in tests)`,
    );
  }
  const hasTimeouts = Object.keys(saga.timeouts).length > 0;
  if (hasTimeouts && !canSchedule(endpoint.transport.capabilities)) {
    throw definitionError(
      saga.name,
      `its timeouts are scheduled messages, and the ${endpoint.transport.name} transport of endpoint ${endpoint.name} ${CANNOT_SCHEDULE}`,
    );
  }
  const timeoutContract = hasTimeouts
    ? defineCommand(sagaTimeoutType(saga.name), {
        version: 1,
        owner: endpoint.name,
        schema: timeoutPayloadSchema,
        jsonSchema: timeoutJsonSchema,
        description: `A timeout of saga ${saga.name}, sent by ${endpoint.name} to itself`,
      })
    : undefined;
  const runtime = new SagaRuntime(endpoint.name, saga, store, timeoutContract);
  for (const contract of [...saga.startedBy, ...saga.handles]) endpoint.on(contract, (message, ctx) => runtime.handleMessage(contract, message, ctx));
  if (timeoutContract) endpoint.on(timeoutContract, (payload, ctx) => runtime.handleTimeout(payload, ctx));
}

/** One instance as a handler sees it while it runs. */
interface Instance<S> {
  readonly key: string;
  readonly instanceId: string;
  readonly stored: StoredSaga | undefined;
  state: S;
  compensations: CompensationStep[];
  completed: boolean;
}

class SagaRuntime<S, Tx> {
  constructor(
    private readonly endpoint: string,
    private readonly saga: Saga<S, any>,
    private readonly store: SagaStore<Tx>,
    private readonly timeoutContract: CommandContract<string, StandardSchemaV1<SagaTimeoutPayload>> | undefined,
  ) {}

  async handleMessage(contract: AnyContract, message: unknown, ctx: HandlerContext<Tx>): Promise<void> {
    const key = this.correlate(contract, message, ctx.envelope);
    const stored = await this.store.load(ctx.tx, this.saga.name, key);
    const running = stored !== undefined && stored.completedAt === undefined;
    const starts = this.saga.startedBy.includes(contract);
    const log = ctx.log.child({ saga: this.saga.name, sagaKey: key });
    if (!running && !starts) {
      if (stored) {
        log.debug({ instanceId: stored.instanceId }, 'message for a completed saga instance ignored');
        return;
      }
      if (this.saga.onNotStarted === 'ignore') {
        log.debug({}, 'message correlates to no saga instance and does not start one; ignored');
        return;
      }
      throw new MailroomError(
        ErrorCodes.SAGA_NOT_STARTED,
        `${contract.type} correlates to no instance of saga ${this.saga.name} (key ${JSON.stringify(key)}) and does not start one${this.saga.onNotStarted === 'retry' ? ' (yet); retrying' : ''}`,
        { unrecoverable: this.saga.onNotStarted !== 'retry', details: { saga: this.saga.name, key } },
      );
    }
    const instance: Instance<S> = running
      ? await this.resume(stored)
      : { key, instanceId: uuidv7(), stored, state: this.saga.initial(message, ctx.envelope), compensations: [], completed: false };
    const handler = this.saga.handlers[contract.type] as (state: S, message: unknown, ctx: SagaContext<S, Tx>) => unknown;
    await this.run(instance, ctx, (sagaCtx) => handler(sagaCtx.state, message, sagaCtx));
  }

  async handleTimeout(payload: SagaTimeoutPayload, ctx: HandlerContext<Tx>): Promise<void> {
    const log = ctx.log.child({ saga: this.saga.name, sagaKey: payload.key, timeout: payload.timeout });
    const stored = await this.store.load(ctx.tx, this.saga.name, payload.key);
    if (!stored || stored.instanceId !== payload.instanceId || stored.completedAt !== undefined) {
      const why = !stored ? 'no such instance' : stored.instanceId !== payload.instanceId ? 'an older instance of the key' : 'the instance completed';
      log.debug({ instanceId: payload.instanceId }, `saga timeout ignored: ${why}`);
      return;
    }
    const spec = this.saga.timeouts[payload.timeout];
    if (!spec) {
      log.warn({}, 'saga timeout ignored: the saga no longer defines it');
      return;
    }
    const data = spec.schema ? await validateWith(spec.schema, payload.data, `Data of timeout ${payload.timeout} of saga ${this.saga.name}`) : payload.data;
    await this.run(await this.resume(stored), ctx, (sagaCtx) => spec.handler(sagaCtx.state, data, sagaCtx));
  }

  private correlate(contract: AnyContract, message: unknown, envelope: Envelope): string {
    const key = (this.saga.correlateBy[contract.type] as (m: unknown, e: Envelope) => unknown)(message, envelope);
    if (typeof key !== 'string' || key.length === 0 || key.length > 500) {
      throw new MailroomError(
        ErrorCodes.SAGA_DEFINITION,
        `Saga ${this.saga.name}: correlateBy.${contract.type} returned ${JSON.stringify(key)}; a key is a non-empty string of at most 500 characters`,
        { unrecoverable: true },
      );
    }
    return key;
  }

  private async resume(stored: StoredSaga): Promise<Instance<S>> {
    const state = await this.checkState(stored.state, 'loaded');
    return { key: stored.key, instanceId: stored.instanceId, stored, state, compensations: [...stored.compensations], completed: false };
  }

  private async checkState(state: unknown, when: 'loaded' | 'saved'): Promise<S> {
    const schema = this.saga.stateSchema;
    if (!schema) return state as S;
    try {
      return (await validateWith(schema, state, `State of saga ${this.saga.name}`)) as S;
    } catch (error) {
      throw new MailroomError(ErrorCodes.SAGA_STATE_INVALID, `The ${when} state of saga ${this.saga.name} fails its schema: ${(error as Error).message}`, {
        unrecoverable: true,
        cause: error,
      });
    }
  }

  /** Runs a saga handler on the instance, then saves it with the version check. */
  private async run(instance: Instance<S>, ctx: HandlerContext<Tx>, handler: (ctx: SagaContext<S, Tx>) => unknown): Promise<void> {
    const sagaCtx = this.context(instance, ctx);
    const returned = await handler(sagaCtx);
    if (returned !== undefined) instance.state = returned as S;
    const state = await this.checkState(instance.state, 'saved');
    assertJson(state, this.saga.name);
    const change = { instanceId: instance.instanceId, state, compensations: instance.compensations, completed: instance.completed };
    const stored = instance.stored;
    if (!stored) await this.store.insert(ctx.tx, this.saga.name, instance.key, change);
    else await this.store.update(ctx.tx, this.saga.name, instance.key, stored.version, change);
  }

  private context(instance: Instance<S>, ctx: HandlerContext<Tx>): SagaContext<S, Tx> {
    const saga = this.saga;
    const endpoint = this.endpoint;
    const timeoutContract = this.timeoutContract;
    const sagaCtx: SagaContext<S, Tx> = {
      ...ctx,
      get state() {
        return instance.state;
      },
      set state(value: S) {
        instance.state = value;
      },
      sagaKey: instance.key,
      instanceId: instance.instanceId,
      get completed() {
        return instance.completed;
      },
      complete() {
        instance.completed = true;
      },
      async requestTimeout(name: string, when: TimeoutWhen, data?: unknown) {
        if (!timeoutContract || !saga.timeouts[name])
          throw unrecoverableDefinition(saga.name, `requestTimeout(${JSON.stringify(name)}): no such timeout in its timeouts`);
        const schedule = scheduleOf(saga.name, when);
        const payload: SagaTimeoutPayload = { key: instance.key, instanceId: instance.instanceId, timeout: name, ...(data !== undefined && { data }) };
        return ctx.send(timeoutContract, payload, { to: endpoint, ...schedule });
      },
      addCompensation(step: string, data?: unknown) {
        if (typeof saga.compensations[step] !== 'function')
          throw unrecoverableDefinition(saga.name, `addCompensation(${JSON.stringify(step)}): no such step in its compensations`);
        instance.compensations.push(data === undefined ? { step } : { step, data });
      },
      async compensate() {
        while (instance.compensations.length > 0) {
          const { step, data } = instance.compensations.pop() as CompensationStep;
          const compensation = saga.compensations[step];
          if (!compensation) throw unrecoverableDefinition(saga.name, `compensation step ${JSON.stringify(step)} is recorded but no longer defined`);
          await compensation(instance.state, data, sagaCtx);
        }
      },
    };
    return sagaCtx;
  }
}

function scheduleOf(saga: string, when: TimeoutWhen): { delayMs: number } | { deliverAt: Date } {
  if (when?.deliverAt !== undefined) {
    if (!(when.deliverAt instanceof Date) || Number.isNaN(when.deliverAt.getTime()))
      throw unrecoverableDefinition(saga, 'requestTimeout: deliverAt must be a valid Date');
    return { deliverAt: when.deliverAt };
  }
  const delayMs = when?.delayMs;
  if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) {
    throw unrecoverableDefinition(saga, `requestTimeout: give { delayMs } (a number >= 0) or { deliverAt }, got ${JSON.stringify(when)}`);
  }
  return { delayMs };
}

function assertJson(state: unknown, saga: string): void {
  try {
    JSON.stringify(state);
  } catch (error) {
    throw new MailroomError(ErrorCodes.SAGA_STATE_INVALID, `The state of saga ${saga} cannot be stored as JSON: ${(error as Error).message}`, {
      unrecoverable: true,
      cause: error,
    });
  }
}

function unrecoverableDefinition(saga: string, message: string): MailroomError {
  const error = definitionError(saga, message);
  return new MailroomError(error.code, error.message, { unrecoverable: true });
}
