import { mailroomPostgres } from '../contenders/mailroom-postgres.js';
import { peerGraphileWorker } from '../contenders/peer-graphile-worker.js';
import { peerPgBoss } from '../contenders/peer-pg-boss.js';
import { postgresServerVersion } from '../contenders/postgres-server.js';
import { MessagingMetrics, type MessagingSizes, runMessagingComparison } from '../messaging-comparison.js';
import { Recorder } from '../recorder.js';
import type { Scenario } from '../scenario.js';
import { uniqueName } from '../unique-name.js';
import { packageVersions } from '../versions.js';

const PREFETCH = 64;
const WINDOW = 128;
const POOL = 10;
const PG_BOSS_BATCH = 64;
const PG_BOSS_WORKERS = 8;

/** Scenario: the PostgreSQL transport side by side with pg-boss and graphile-worker on the same server. */
export const postgresScenario: Scenario = {
  name: 'postgres',
  title: 'PostgreSQL as the broker: Mailroom vs pg-boss and graphile-worker',
  description:
    'Publish (committed when it resolves) -> handle -> settle, 1 KiB JSON payloads, each library in a database of its own on the same PostgreSQL server, publisher and consumer in one process. ' +
    `Throughput: ${WINDOW} publishes awaited at once, messages handled per second from the first publish to the last delivery. Latency: publish call -> handler at fixed rates. ` +
    `Mailroom: an endpoint with concurrency ${PREFETCH} (contract validated on both sides, CloudEvents headers), transport defaults. ` +
    `pg-boss: send() per message, ${PG_BOSS_WORKERS} work() registrations fetching up to ${PG_BOSS_BATCH} jobs each, polling at its minimum interval (0.5 s; pg-boss has no LISTEN/NOTIFY). ` +
    `graphile-worker: addJob() per message, concurrency ${PREFETCH}, woken by LISTEN/NOTIFY; once with its defaults and once with the batching its performance page recommends (local queue of ${PREFETCH + 1}, completions batched). ` +
    `Every library gets a pool of ${POOL} connections.`,
  async run(context) {
    const recorder = new Recorder();
    const sizes: MessagingSizes = {
      throughputCount: context.size(10_000, 500),
      window: WINDOW,
      latencySeconds: 2 * context.scale,
      rates: [100, 1000],
      slowestRate: 50,
    };
    const id = uniqueName('bench').replace('-', '_');
    const group = 'end to end';
    const contenders = [
      peerPgBoss({ name: 'pg-boss', database: `${id}_pgboss`, batchSize: PG_BOSS_BATCH, workers: PG_BOSS_WORKERS, poolSize: POOL }),
      peerGraphileWorker({ name: 'graphile-worker', database: `${id}_graphile`, concurrency: PREFETCH, poolSize: POOL }),
      peerGraphileWorker({
        name: 'graphile-worker, local queue',
        database: `${id}_graphileq`,
        concurrency: PREFETCH,
        localQueueSize: PREFETCH + 1,
        poolSize: POOL,
      }),
      mailroomPostgres({ name: 'mailroom', database: `${id}_mailroom`, endpoint: 'bench-postgres', prefetch: PREFETCH, poolSize: POOL }),
    ];
    await runMessagingComparison(context, recorder, group, contenders, sizes);
    for (const peer of ['pg-boss', 'graphile-worker', 'graphile-worker, local queue']) {
      recorder.compare(group, MessagingMetrics.throughput, 'mailroom', peer, { op: '>=', value: 1 });
      for (const rate of sizes.rates) {
        recorder.compare(group, MessagingMetrics.p50(rate), 'mailroom', peer, { op: '<=', value: 1 });
        recorder.compare(group, MessagingMetrics.p99(rate), 'mailroom', peer, { op: '<=', value: 1 });
      }
    }
    return {
      versions: {
        postgres: await postgresServerVersion(),
        ...packageVersions(['pg', 'pg-boss', 'graphile-worker', '@mailroom/core', '@mailroom/postgres', 'zod']),
      },
      settings: {
        ...sizes,
        prefetch: PREFETCH,
        poolSize: POOL,
        pgBoss: { workers: PG_BOSS_WORKERS, batchSize: PG_BOSS_BATCH, pollingIntervalSeconds: 0.5 },
        graphileWorker: { concurrency: PREFETCH, localQueue: PREFETCH + 1, completeJobBatchDelay: 0 },
        messageBytes: 1024,
      },
      recorder,
      notes: [
        `pg-boss polls: each of its ${PG_BOSS_WORKERS} workers fetches every 0.5 s (its minimum interval) and sleeps the rest of that interval after a batch, so a job waits for the next fetch of any worker, whatever the load, and one worker handles at most ${PG_BOSS_BATCH} jobs per 0.5 s; pg-boss offers notifyWorker() to skip a wait, but only for a worker in the same process as the sender.`,
        'graphile-worker warns that a pool smaller than its concurrency may perform below its best; it was left at the same 10 connections as the others (more would crowd the shared server).',
        'All three commit each publish before it resolves (synchronous_commit on). Mailroom commits the publishes of one event-loop turn together (group commit); pg-boss and graphile-worker commit one INSERT per send()/addJob().',
      ],
    };
  },
};
