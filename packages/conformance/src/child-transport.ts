import { spawn } from 'node:child_process';

/** How a separate Node process opens a connection to the broker under test: `connectTransport(url, options)`. */
export interface ChildConnection {
  /** A URL `connectTransport` of `@mailroom/core` accepts (the adapter package must be installed and built), or that `module` takes. */
  readonly url: string;
  /**
   * For a transport `connectTransport` does not know (one of your own): the module the child imports
   * and calls `createTransportFromUrl(url, options)` of, a package name resolved from the working
   * directory or a `file:` URL. Default: `connectTransport`.
   */
  readonly module?: string;
  /** Adapter options passed with it (prefix, namespace, schema...): JSON values only. */
  readonly options?: Record<string, unknown>;
}

/** What the child does: publish `publish` events of `type`, then consume `consume` deliveries as endpoint `endpoint`. */
export interface ChildWork {
  readonly type: string;
  readonly publish: number;
  readonly endpoint: string;
  readonly consumeType: string;
  readonly consume: number;
}

/** What the child reports: the ids it published and the ids (with bodies) it consumed. */
export interface ChildReport {
  readonly published: string[];
  readonly consumed: { id: string; body: string }[];
}

/**
 * The child's program: connects through `connectTransport` (or the connection's `module`), subscribes `endpoint` to `consumeType`
 * (printing `ready` once subscribed), publishes its events, waits for its deliveries, acks them,
 * closes and prints its report as the last line.
 */
const CHILD_PROGRAM = `
import { connectTransport, createEnvelope, envelopeToHeaders, HeaderNames } from '@mailroom/core';
const { connection, work } = JSON.parse(process.env.MAILROOM_CHILD_TRANSPORT);
// The test process holds our stdin open: when it ends (a failed or killed test run), so do we.
process.stdin.on('end', () => process.exit(2));
process.stdin.resume();
const connect = connection.module === undefined ? connectTransport : (await import(connection.module)).createTransportFromUrl;
const transport = await connect(connection.url, connection.options ?? {});
const consumed = [];
let done;
const allConsumed = new Promise((resolve) => { done = resolve; if (work.consume === 0) resolve(); });
await transport.subscribe({ endpoint: work.endpoint, events: [work.consumeType], commands: [], concurrency: 4 }, async (delivery) => {
  consumed.push({ id: delivery.headers[HeaderNames.id], body: Buffer.from(delivery.body).toString('utf8') });
  await delivery.ack();
  if (consumed.length >= work.consume) done();
});
process.stdout.write('ready\\n');
const published = [];
for (let i = 0; i < work.publish; i++) {
  const envelope = createEnvelope({ type: work.type, dataversion: 1, source: 'urn:mailroom:conformance-child' });
  await transport.publish({ route: { kind: 'event', type: work.type }, headers: envelopeToHeaders(envelope, { 'x-child-index': String(i) }), body: new TextEncoder().encode(JSON.stringify({ i, pid: process.pid })) });
  published.push(envelope.id);
}
await allConsumed;
await transport.close();
process.stdout.write(JSON.stringify({ published, consumed }) + '\\n', () => process.exit(0));
`;

/**
 * Runs {@link ChildWork} in a separate Node process (this process's working directory, so the
 * workspace's packages resolve). `onReady` runs once the child has subscribed. Rejects with the
 * child's stderr when it fails or exceeds `timeoutMs`.
 */
export function runChildTransport(connection: ChildConnection, work: ChildWork, onReady: () => Promise<void>, timeoutMs: number): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD_PROGRAM], {
      env: { ...process.env, MAILROOM_CHILD_TRANSPORT: JSON.stringify({ connection, work }), MAILROOM_LOG_LEVEL: 'warn' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let readySeen = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      if (!readySeen && stdout.includes('ready\n')) {
        readySeen = true;
        onReady().catch((error: unknown) => {
          child.kill('SIGKILL');
          reject(error);
        });
      }
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').at(-1) ?? '';
      if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last) as ChildReport);
      else
        reject(
          new Error(
            `the child process ended with ${signal ?? `code ${code}`} (time limit ${timeoutMs} ms): ${stderr.trim().slice(-2000) || stdout.trim().slice(-500)}`,
          ),
        );
    });
  });
}
