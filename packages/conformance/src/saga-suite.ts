import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  type CommandContract,
  createEndpoint,
  createMemoryTransport,
  defineCommand,
  defineEvent,
  defineSaga,
  type Endpoint,
  ErrorCodes,
  type EventContract,
  isMailroomError,
  type MessageDatabase,
  type Persistence,
  type Saga,
  type SagaContext,
  type SagaStore,
  sagaTimeoutType,
  type Transport,
} from '@mailroom/core';
import { afterEach, describe, expect, it } from 'vitest';
import { numberSchema, uniqueName, waitUntil } from './helpers.js';

type Payload = { n: number; key?: string };

/** The state of the conformance saga. */
export interface ConformanceSagaState {
  total: number;
  expired: boolean;
}

/** The names one run of the conformance saga uses (unique per test, so parallel runs never meet). */
export interface ConformanceSagaNames {
  readonly saga: string;
  readonly endpoint: string;
  readonly notifier: string;
  readonly prefix: string;
}

/** The conformance saga's contracts and definition, built from its names (a child process builds the same from the same names). */
export interface ConformanceSaga {
  readonly names: ConformanceSagaNames;
  /** Starts an instance keyed by `key`: sends Notify(n), records the compensation Undo(n), and requests the timeout `expire` after `n` ms when `n > 0`. */
  readonly Started: EventContract<string, ReturnType<typeof numberSchema>>;
  /** Adds `n` to the total; `n = 0` completes the instance. */
  readonly Bumped: EventContract<string, ReturnType<typeof numberSchema>>;
  readonly Notify: CommandContract<string, ReturnType<typeof numberSchema>>;
  readonly Undo: CommandContract<string, ReturnType<typeof numberSchema>>;
  readonly saga: Saga<ConformanceSagaState>;
}

/** Fresh unique names for {@link conformanceSaga}. */
export function conformanceSagaNames(): ConformanceSagaNames {
  const id = randomUUID().slice(0, 8);
  return { saga: `saga-${id}`, endpoint: `sagas-${id}`, notifier: `notifier-${id}`, prefix: `Saga${id}` };
}

/** Builds the saga every saga store is tested with. */
export function conformanceSaga(names: ConformanceSagaNames): ConformanceSaga {
  const Started = defineEvent(`${names.prefix}.Started`, { version: 1, schema: numberSchema() });
  const Bumped = defineEvent(`${names.prefix}.Bumped`, { version: 1, schema: numberSchema() });
  const Notify = defineCommand(`${names.prefix}.Notify`, { version: 1, owner: names.notifier, schema: numberSchema() });
  const Undo = defineCommand(`${names.prefix}.Undo`, { version: 1, owner: names.notifier, schema: numberSchema() });
  const key = (m: Payload) => m.key ?? 'none';
  const saga = defineSaga({
    name: names.saga,
    startedBy: [Started],
    handles: [Bumped],
    correlateBy: { [Started.type]: key, [Bumped.type]: key } as never,
    initial: (): ConformanceSagaState => ({ total: 0, expired: false }),
    handlers: {
      [Started.type]: async (_state: ConformanceSagaState, m: Payload, ctx: SagaContext<ConformanceSagaState>) => {
        await ctx.send(Notify, { n: m.n, key: m.key });
        ctx.addCompensation('undo', { n: m.n });
        if (m.n > 0) await ctx.requestTimeout('expire', { delayMs: m.n });
      },
      [Bumped.type]: (state: ConformanceSagaState, m: Payload, ctx: SagaContext<ConformanceSagaState>) => {
        state.total += m.n;
        if (m.n === 0) ctx.complete();
      },
    } as never,
    timeouts: {
      expire: {
        handler: async (state, _data, ctx) => {
          await ctx.compensate();
          ctx.complete();
          return { ...state, expired: true };
        },
      },
    },
    compensations: {
      undo: (_state, data: { n: number }, ctx) => ctx.send(Undo, { n: data.n, key: ctx.sagaKey }),
    },
  });
  return { names, Started, Bumped, Notify, Undo, saga };
}

/** What the saga suite needs of a database under test. */
export interface SagaFixture<Tx> {
  readonly database: MessageDatabase<Tx>;
  readonly sagas: SagaStore<Tx>;
  /** A new persistence on this database (one per endpoint). */
  persistence(options?: { relay?: false }): Persistence<Tx>;
  /**
   * Spawns a child process that runs the conformance saga's endpoint (`names.endpoint`) on the
   * SQLite broker at `brokerPath`, on this database, with no relay: what it commits stays in the
   * outbox until another process relays it. It prints `ready` once consuming.
   */
  spawnSagaChild(names: ConformanceSagaNames, brokerPath: string): ChildProcess;
  /** Connects to the SQLite broker at `brokerPath` (the crash test's transport across processes). */
  brokerTransport(brokerPath: string): Transport;
  /** A directory for the broker file, removed by `dispose`. */
  readonly dir: string;
  dispose(): Promise<void>;
}

/** Options of {@link describeSagaStore}. */
export interface SagaSuiteOptions<Tx> {
  name: string;
  create: () => Promise<SagaFixture<Tx>>;
  /**
   * True when the database runs the write transactions of handlers one at a time (SQLite): two
   * handlers then never load the same version, so the race test checks that both changes apply
   * without a conflict. False (PostgreSQL): both load the same version and one must conflict.
   */
  serializesWrites: boolean;
}

/**
 * Registers the saga store suite (vitest): optimistic concurrency at the store and through an
 * endpoint (two messages for one instance at once: one commits, the other conflicts and is retried
 * on the fresh state), timeouts that fire and compensate, timeouts after completion ignored, and a
 * process killed with SIGKILL between its state change and the publish losing nothing.
 */
export function describeSagaStore<Tx>(options: SagaSuiteOptions<Tx>): void {
  let f: SagaFixture<Tx>;
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await f?.dispose();
  });

  const change = (total: number, completed = false) => ({ instanceId: 'i-1', state: { total }, compensations: [], completed });

  /** Runs the saga's endpoint and a notifier recording Notify and Undo on one memory transport. */
  async function run(saga: ConformanceSaga, store?: SagaStore<Tx>) {
    const transport = createMemoryTransport();
    const notified: Payload[] = [];
    const undone: Payload[] = [];
    const endpoint: Endpoint<Tx> = createEndpoint<Tx>({
      name: saga.names.endpoint,
      transport,
      persistence: f.persistence(),
      recoverability: { immediateRetries: 5, delayedRetries: 0 },
      logger: silent,
    });
    endpoint.saga(saga.saga as Saga<ConformanceSagaState, Tx>, store ? { store } : {});
    const handledTimeouts: string[] = [];
    endpoint.use({
      incoming: async (ctx, next) => {
        await next();
        if (ctx.envelope.type === sagaTimeoutType(saga.names.saga)) handledTimeouts.push(ctx.envelope.id);
      },
    });
    const notifier = createEndpoint({ name: saga.names.notifier, transport, logger: silent });
    notifier.on(saga.Notify, (m) => void notified.push(m));
    notifier.on(saga.Undo, (m) => void undone.push(m));
    cleanups.push(
      () => transport.close(),
      () => notifier.stop({ timeoutMs: 1000 }),
      () => endpoint.stop({ timeoutMs: 1000 }),
    );
    await notifier.start();
    await endpoint.start();
    const load = (key: string) => f.database.transaction((tx) => f.sagas.load(tx, saga.names.saga, key));
    const deadLettered = async () => (await transport.deadLetters.list()).length;
    return { endpoint, notified, undone, load, deadLettered, handledTimeouts };
  }

  describe(`saga store conformance: ${options.name}`, () => {
    it('inserts an instance once and updates it only from the version it was loaded at (MAILROOM_ERR_SAGA_CONFLICT otherwise)', async () => {
      f = await options.create();
      const conflict = (e: unknown) => isMailroomError(e, ErrorCodes.SAGA_CONFLICT);
      const saga = uniqueName('s');
      await f.database.transaction((tx) => f.sagas.insert(tx, saga, 'k', change(1)));
      await expect(f.database.transaction((tx) => f.sagas.insert(tx, saga, 'k', change(2)))).rejects.toSatisfy(conflict);
      await f.database.transaction((tx) => f.sagas.update(tx, saga, 'k', 1, change(3)));
      await expect(f.database.transaction((tx) => f.sagas.update(tx, saga, 'k', 1, change(4)))).rejects.toSatisfy(conflict);
      await f.database.transaction((tx) => f.sagas.update(tx, saga, 'k', 2, { ...change(5, true), compensations: [{ step: 'undo', data: { n: 1 } }] }));
      const stored = await f.database.transaction((tx) => f.sagas.load(tx, saga, 'k'));
      expect(stored).toMatchObject({ saga, key: 'k', instanceId: 'i-1', version: 3, state: { total: 5 }, compensations: [{ step: 'undo', data: { n: 1 } }] });
      expect(stored?.completedAt).toBeInstanceOf(Date);
      expect(await f.database.transaction((tx) => f.sagas.load(tx, saga, 'other'))).toBeUndefined();
    });

    it('two messages for one instance at once: both changes apply; where both load the same version, one conflicts and is retried on the fresh state', async () => {
      f = await options.create();
      const saga = conformanceSaga(conformanceSagaNames());
      let loads = 0;
      let open: () => void = () => undefined;
      const bothLoaded = new Promise<void>((resolve) => {
        open = resolve;
      });
      const gated: SagaStore<Tx> = {
        ...f.sagas,
        insert: (tx, ...rest) => f.sagas.insert(tx, ...rest),
        update: (tx, ...rest) => f.sagas.update(tx, ...rest),
        load: async (tx, name, key) => {
          const stored = await f.sagas.load(tx, name, key);
          if (stored && ++loads === 2) open();
          // Where transactions run at once, hold the first two loads until both happened.
          if (stored && !options.serializesWrites && loads <= 2) await bothLoaded;
          return stored;
        },
      };
      const { endpoint, load, deadLettered, notified } = await run(saga, gated);
      await endpoint.publish(saga.Started, { n: 0, key: 'race' });
      await waitUntil(
        () => notified.length === 1,
        10_000,
        () => 'the saga did not start',
      );
      await Promise.all([endpoint.publish(saga.Bumped, { n: 2, key: 'race' }), endpoint.publish(saga.Bumped, { n: 3, key: 'race' })]);
      const stored = await pollLoad(load, 'race', (s) => (s?.state as ConformanceSagaState | undefined)?.total === 5);
      expect(stored?.version).toBe(3);
      // Serialized: two loads, no conflict. Concurrent: the loser loaded again after its conflict.
      expect(loads).toBe(options.serializesWrites ? 2 : 3);
      expect(await deadLettered()).toBe(0);
    });

    it('a timeout fires, runs the recorded compensations and completes the instance', async () => {
      f = await options.create();
      const saga = conformanceSaga(conformanceSagaNames());
      const { endpoint, load, undone, deadLettered } = await run(saga);
      await endpoint.publish(saga.Started, { n: 50, key: 'late' });
      await waitUntil(
        () => undone.length === 1,
        10_000,
        () => 'no compensation ran',
      );
      expect(undone).toEqual([{ n: 50, key: 'late' }]);
      const stored = await pollLoad(load, 'late', (s) => s?.completedAt !== undefined);
      expect(stored?.state).toEqual({ total: 0, expired: true });
      expect(stored?.compensations).toEqual([]);
      expect(await deadLettered()).toBe(0);
    });

    it('a timeout arriving after the instance completed is ignored: no compensation, no state change, nothing dead-lettered', async () => {
      f = await options.create();
      const saga = conformanceSaga(conformanceSagaNames());
      const { endpoint, load, undone, deadLettered, handledTimeouts } = await run(saga);
      await endpoint.publish(saga.Started, { n: 300, key: 'done' });
      await pollLoad(load, 'done', (s) => s !== undefined);
      await endpoint.publish(saga.Bumped, { n: 0, key: 'done' });
      const completed = await pollLoad(load, 'done', (s) => s?.completedAt !== undefined);
      await waitUntil(
        () => handledTimeouts.length === 1,
        10_000,
        () => 'the timeout was never handled',
      );
      expect(undone).toEqual([]);
      expect(await load('done')).toEqual(completed);
      expect(await deadLettered()).toBe(0);
    });

    it('a process killed with SIGKILL after committing its state change and before publishing loses nothing: the outbox delivers after restart', async () => {
      f = await options.create();
      const names = conformanceSagaNames();
      const saga = conformanceSaga(names);
      const brokerPath = `${f.dir}/broker.db`;
      const child = f.spawnSagaChild(names, brokerPath);
      cleanups.push(() => child.kill('SIGKILL'));
      await new Promise<void>((resolve, reject) => {
        child.stdout?.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('ready')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`the saga child exited early (${code})`)));
      });
      const producerTransport = f.brokerTransport(brokerPath);
      cleanups.push(() => producerTransport.close());
      const producer = createEndpoint({ name: uniqueName('producer'), transport: producerTransport, logger: silent });
      await producer.publish(saga.Started, { n: 0, key: 'crash' });
      const load = (key: string) => f.database.transaction((tx) => f.sagas.load(tx, names.saga, key));
      await pollLoad(load, 'crash', (s) => s !== undefined);
      // The state change and the outbox row are committed; no relay runs in the child: kill it now.
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;

      const transport = f.brokerTransport(brokerPath);
      const notified: Payload[] = [];
      const notifier = createEndpoint({ name: names.notifier, transport, logger: silent });
      notifier.on(saga.Notify, (m) => void notified.push(m));
      const restarted = createEndpoint<Tx>({ name: names.endpoint, transport, persistence: f.persistence(), logger: silent });
      restarted.saga(saga.saga as Saga<ConformanceSagaState, Tx>);
      cleanups.push(
        () => transport.close(),
        () => notifier.stop({ timeoutMs: 1000 }),
        () => restarted.stop({ timeoutMs: 1000 }),
      );
      await notifier.start();
      await restarted.start();
      await waitUntil(
        () => notified.length >= 1,
        15_000,
        () => 'the committed Notify never left the outbox',
      );
      await producer.publish(saga.Bumped, { n: 7, key: 'crash' });
      const stored = await pollLoad(load, 'crash', (s) => (s?.state as ConformanceSagaState | undefined)?.total === 7);
      expect(notified).toEqual([{ n: 0, key: 'crash' }]);
      expect(stored?.version).toBe(2);
    });
  });
}

async function pollLoad<T>(load: (key: string) => Promise<T>, key: string, done: (value: T) => boolean): Promise<T> {
  let last: T | undefined;
  await waitUntil(
    async () => done((last = await load(key))),
    15_000,
    () => `saga instance ${key}: ${JSON.stringify(last)}`,
  );
  return last as T;
}

const silent = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silent,
};

/**
 * The body of the crash test's child process: runs the conformance saga's endpoint on `transport`
 * with `persistence` (which must not relay) and prints `ready` once consuming.
 */
export async function runSagaChild<Tx>(names: ConformanceSagaNames, transport: Transport, persistence: Persistence<Tx>): Promise<void> {
  const endpoint = createEndpoint<Tx>({ name: names.endpoint, transport, persistence, logger: silent });
  endpoint.saga(conformanceSaga(names).saga as Saga<ConformanceSagaState, Tx>);
  await endpoint.start();
  process.stdout.write('ready\n');
}
