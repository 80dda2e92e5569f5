import PgBoss from 'pg-boss';
import type { BenchMessage } from '../bench-message.js';
import type { MessagingContender } from '../messaging-contender.js';
import { createBenchDatabase, dropBenchDatabase } from './postgres-server.js';

/** Settings of the pg-boss contender. */
export interface PgBossOptions {
  readonly name: string;
  /** The database of this run (created on start, dropped on stop). */
  readonly database: string;
  /** Jobs fetched per poll of one worker. */
  readonly batchSize: number;
  /** `work()` registrations (workers polling the queue side by side). */
  readonly workers: number;
  /** Connections of pg-boss's pool. */
  readonly poolSize: number;
}

const QUEUE = 'bench';

/**
 * pg-boss as its documentation sets it up: `send()` per message (one INSERT, committed when it
 * resolves), `work()` handlers fetching batches with `FOR UPDATE SKIP LOCKED`, completed after the
 * handler. Its workers poll (no LISTEN/NOTIFY); the interval is set to pg-boss's minimum, 0.5 s.
 */
export function peerPgBoss(options: PgBossOptions): MessagingContender {
  let boss: PgBoss | undefined;
  return {
    name: options.name,
    async start(deliver) {
      const connectionString = await createBenchDatabase(options.database);
      boss = new PgBoss({ connectionString, max: options.poolSize });
      boss.on('error', (error) => process.stderr.write(`pg-boss: ${String(error)}\n`));
      await boss.start();
      await boss.createQueue(QUEUE);
      for (let i = 0; i < options.workers; i++) {
        await boss.work<BenchMessage>(QUEUE, { batchSize: options.batchSize, pollingIntervalSeconds: 0.5 }, async (jobs) => {
          for (const job of jobs) deliver(job.data);
        });
      }
    },
    async publish(message) {
      await (boss as PgBoss).send(QUEUE, message as unknown as object);
    },
    async stop() {
      if (!boss) return;
      await boss.stop({ graceful: false, wait: true, timeout: 5000 });
      boss = undefined;
      await dropBenchDatabase(options.database);
    },
  };
}
