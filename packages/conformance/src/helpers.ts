import { randomBytes } from 'node:crypto';
import { hasTransportAdmin, type MessageTransport, type Transport } from '@mailroom/core';

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A name unique to this test run, valid as an endpoint name (lower case) or a type name. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** Polls `condition` (sync or async) every 10 ms until it holds; throws after `timeoutMs` with `describe()` in the message. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number, describe: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not reached within ${timeoutMs} ms ${describe()}`.trim());
    await sleep(10);
  }
}

/** The connections and clean-up steps of one test; disposed after it (clean-ups first, newest first). */
export interface Scope {
  /** A new connection to the transport under test: its message-moving part, all every transport has. */
  connect(): Promise<MessageTransport>;
  /**
   * A new connection for a test that needs the management part too (`deadLetters`, `queues()`):
   * the test is skipped (through the test context's `skip`) when the transport has no
   * `TransportAdmin`, so the suite checks the management part only where a transport declares it.
   */
  connectAdmin(): Promise<Transport>;
  onDispose(step: () => Promise<void> | void): void;
  dispose(): Promise<void>;
}

/** Creates a {@link Scope} over a connection factory, for the test whose context is `ctx`. */
export function createScope(connect: () => Promise<MessageTransport>, ctx: { skip(note?: string): never }): Scope {
  const transports: MessageTransport[] = [];
  const steps: (() => Promise<void> | void)[] = [];
  const open = async () => {
    const transport = await connect();
    transports.push(transport);
    return transport;
  };
  return {
    connect: open,
    async connectAdmin() {
      const transport = await open();
      if (hasTransportAdmin(transport)) return transport;
      return ctx.skip(`${transport.name} has no TransportAdmin (deadLetters, queues)`);
    },
    onDispose(step) {
      steps.push(step);
    },
    async dispose() {
      for (const step of steps.reverse()) await step();
      await Promise.all(transports.map((t) => t.close()));
    },
  };
}

/** Reads until `done` holds or the time is up (then throws with `describe` of the last value). */
export async function pollFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number, describe: (value: T) => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not reached within ${timeoutMs} ms: ${describe(value)}`);
    await sleep(25);
  }
}

/** A minimal Standard Schema for `{ n: number; key?: string }`, so the suites need no schema library. */
export function numberSchema() {
  return {
    '~standard': {
      version: 1 as const,
      vendor: 'mailroom-conformance',
      validate: (value: unknown) =>
        typeof value === 'object' && value !== null && typeof (value as { n?: unknown }).n === 'number'
          ? { value: value as { n: number; key?: string } }
          : { issues: [{ message: 'expected { n: number }', path: ['n'] }] },
      types: undefined as unknown as { input: { n: number; key?: string }; output: { n: number; key?: string } },
    },
  };
}
