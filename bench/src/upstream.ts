import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { interleave } from './interleave.js';
import { LatencyHistogram } from './latency-histogram.js';
import type { Recorder } from './recorder.js';
import type { ScenarioContext } from './scenario.js';
import { significant } from './stats.js';

/** A server the benchmark process calls, running in a child process of its own. */
export interface Upstream {
  readonly child: ChildProcess;
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
}

/** The part of a Fastify app an upstream needs: listen, its address, close. */
interface ListeningApp {
  listen(options: { host: string; port: number }): Promise<unknown>;
  readonly server: { address(): unknown };
  close(): Promise<unknown>;
}

/**
 * Starts `script` (a module of `bench/dist`, e.g. `http-upstream.js`) as a child process and
 * resolves once it has sent its port (see {@link serveUpstream}).
 */
export async function startUpstream(script: string): Promise<Upstream> {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [message] = (await once(child, 'message')) as [{ port: number }];
  return { child, url: `http://127.0.0.1:${message.port}` };
}

/** Stops an upstream from {@link startUpstream}: disconnects and waits for the child to exit. */
export async function stopUpstream(upstream: Upstream): Promise<void> {
  upstream.child.disconnect();
  await once(upstream.child, 'exit').catch(() => undefined);
}

/**
 * The child's side: listens on 127.0.0.1 on a free port, sends `{ port }` to the parent, and
 * closes the app and exits when the parent disconnects.
 */
export async function serveUpstream(app: ListeningApp): Promise<void> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null && 'port' in address ? Number(address.port) : 0;
  process.send?.({ port });
  process.on('disconnect', () => {
    void app.close().then(() => process.exit(0));
  });
}

/** Times `count` calls of `call` one after another (each is expected to fail) in an HdrHistogram. */
export async function timeFailures(count: number, call: () => Promise<unknown>): Promise<LatencyHistogram> {
  const histogram = new LatencyHistogram();
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    try {
      await call();
    } catch {
      // expected
    }
    histogram.recordMs(performance.now() - started);
  }
  return histogram;
}

/**
 * The fail-fast round: `count` failing calls of each contender, one after another, interleaved;
 * records each contender's failed-call p50 and p99 (µs) under the case `failing upstream`.
 */
export async function measureFailures(
  calls: Record<string, () => Promise<unknown>>,
  count: number,
  context: ScenarioContext,
  recorder: Recorder,
): Promise<void> {
  await interleave(Object.keys(calls), context.rounds, context.warmup, async (name, measured) => {
    const histogram = await timeFailures(count, calls[name] as () => Promise<unknown>);
    context.log(`${name}: failed call p50 ${(histogram.percentileMs(50) * 1000).toFixed(1)} µs p99 ${(histogram.percentileMs(99) * 1000).toFixed(1)} µs`);
    if (measured) {
      recorder.add('failing upstream', name, 'failed call p50', 'µs', 'lower', significant(histogram.percentileMs(50) * 1000));
      recorder.add('failing upstream', name, 'failed call p99', 'µs', 'lower', significant(histogram.percentileMs(99) * 1000));
    }
  });
}
