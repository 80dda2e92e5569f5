import { Logger, makeWorkerUtils, type Runner, run, type WorkerUtils } from 'graphile-worker';
import type { BenchMessage } from '../bench-message.js';
import type { MessagingContender } from '../messaging-contender.js';
import { createBenchDatabase, dropBenchDatabase } from './postgres-server.js';

/** Settings of the graphile-worker contender. */
export interface GraphileWorkerOptions {
  readonly name: string;
  /** The database of this run (created on start, dropped on stop). */
  readonly database: string;
  /** Jobs run at once. */
  readonly concurrency: number;
  /** The local queue (jobs locked and fetched per query); undefined: off, graphile-worker's default. */
  readonly localQueueSize?: number;
  /** Connections of its pools (the runner's and the one adding jobs). */
  readonly poolSize: number;
}

/**
 * graphile-worker as its documentation sets it up: `addJob()` per message (a call of its
 * `add_job` function, committed when it resolves, with a trigger that NOTIFYs the workers), a
 * runner with `concurrency` jobs at once, woken by LISTEN/NOTIFY. With `localQueueSize`, the
 * batching its performance page recommends for high throughput (a local queue of concurrency + 1
 * and completions batched within a tick).
 */
export function peerGraphileWorker(options: GraphileWorkerOptions): MessagingContender {
  let runner: Runner | undefined;
  let utils: WorkerUtils | undefined;
  // Warnings and errors only: its info lines ("Worker connected...") would interleave with the harness's.
  const logger = new Logger(() => (level, message) => {
    if (level === 'error' || level === 'warning') process.stderr.write(`graphile-worker: ${message}\n`);
  });
  return {
    name: options.name,
    async start(deliver) {
      const connectionString = await createBenchDatabase(options.database);
      runner = await run({
        connectionString,
        concurrency: options.concurrency,
        maxPoolSize: options.poolSize,
        noHandleSignals: true,
        logger,
        taskList: {
          bench: async (payload) => {
            deliver(payload as BenchMessage);
          },
        },
        ...(options.localQueueSize !== undefined && {
          preset: { worker: { localQueue: { size: options.localQueueSize }, completeJobBatchDelay: 0 } },
        }),
      });
      utils = await makeWorkerUtils({ connectionString, maxPoolSize: options.poolSize, logger });
    },
    async publish(message) {
      await (utils as WorkerUtils).addJob('bench', message);
    },
    async stop() {
      if (!runner) return;
      await runner.stop();
      await utils?.release();
      runner = undefined;
      await dropBenchDatabase(options.database);
    },
  };
}
