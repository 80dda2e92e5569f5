import { join } from 'node:path';
import { createMemoryTransport } from '@mailroom/core';
import { createSqliteTransport } from '@mailroom/sqlite';
import { mailroomEndpoint } from '../contenders/mailroom-endpoint.js';
import { mailroomNats } from '../contenders/mailroom-nats.js';
import { mailroomRabbitMq } from '../contenders/mailroom-rabbitmq.js';
import { NATS_SERVERS } from '../contenders/nats-server.js';
import { COST_CATEGORIES, cpuMicros, profileShares } from '../cpu-breakdown.js';
import type { MessagingContender } from '../messaging-contender.js';
import { MessagingBench } from '../messaging-runs.js';
import { Recorder } from '../recorder.js';
import type { Scenario } from '../scenario.js';
import { significant } from '../stats.js';
import { tempDir } from '../temp-dir.js';
import { uniqueName } from '../unique-name.js';
import { packageVersions } from '../versions.js';

const PREFETCH = 64;
const WINDOW = 256;
const METRIC = 'CPU per message';
const TOTAL = 'total (process CPU)';

/** Scenario: where one message's CPU time goes, publish -> handle -> ack, by the job of the code that spends it. */
export const costScenario: Scenario = {
  name: 'cost',
  title: 'Per-message CPU cost, broken down: codec, envelope, ids, validation, middleware, endpoint, telemetry, logging, transport',
  description:
    `Publish -> handle -> ack through one endpoint (${WINDOW} publishes in flight, prefetch ${PREFETCH}, 1 KiB messages validated on publish and on receipt, telemetry API without an SDK, default logger), publisher and consumer in this process. ` +
    `Each round runs the same batch twice: once to measure the process's CPU time (user + system, all threads) per message, once under V8's sampling profiler (200 µs) to split the main thread's busy time by category: a sample is charged to the innermost frame of its stack whose script belongs to a category ` +
    '(codec: packages/core codec.js + secure-json-parse, with the JSON.parse/stringify they call; envelope: envelope.js + header helpers; ids: uuid; validation: validate.js, contract.js, zod; middleware; endpoint: endpoint.js, recoverability, errors; telemetry: core/telemetry + @opentelemetry; logging: logger.js + pino; transport: the transport package and its client library (better-sqlite3, amqplib, @nats-io); bench harness; garbage collection: the V8 collector on the main thread; runtime: the rest, Node internals and native code not called from one of those). ' +
    "A category's figure is its share times the measured total. The brokers' own CPU (RabbitMQ, nats-server) is not in it: this is the cost a service pays in its own process.",
  async run(context) {
    const recorder = new Recorder();
    const dir = tempDir('mailroom-bench-cost');
    const count = context.size(20_000, 1000);
    const id = uniqueName('cost').replace(/-/g, '_');
    const cases: [string, MessagingContender][] = [
      ['memory', mailroomEndpoint({ name: 'memory', endpoint: 'bench-cost-memory', prefetch: PREFETCH, openTransport: () => createMemoryTransport() })],
      [
        'SQLite',
        mailroomEndpoint({
          name: 'SQLite',
          endpoint: 'bench-cost-sqlite',
          prefetch: PREFETCH,
          openTransport: () => createSqliteTransport({ path: join(dir.path, 'cost.db'), synchronous: 'normal' }),
        }),
      ],
      [
        'RabbitMQ classic',
        mailroomRabbitMq({ name: 'RabbitMQ classic', queueType: 'classic', prefetch: PREFETCH, window: WINDOW, namespace: `${id}.mr`, endpoint: `${id}-mr` }),
      ],
      ['NATS JetStream', mailroomNats({ name: 'NATS JetStream', prefix: `${id}_mr`, endpoint: `${id}-mr`.replace(/_/g, '-'), prefetch: PREFETCH })],
    ];
    try {
      for (const [group, contender] of cases) {
        const bench = new MessagingBench(contender);
        await bench.start();
        try {
          const batch = () => bench.throughput(count, WINDOW, 180_000).then(() => undefined);
          for (let round = 0; round < context.warmup + context.rounds; round++) {
            const micros = (await cpuMicros(batch)) / count;
            const shares = await profileShares(batch);
            if (round < context.warmup) continue;
            recorder.add(group, TOTAL, METRIC, 'µs', 'lower', significant(micros));
            for (const category of COST_CATEGORIES) recorder.add(group, category, METRIC, 'µs', 'lower', significant(micros * (shares.get(category) ?? 0)));
            context.log(`${group}: ${micros.toFixed(1)} µs per message`);
          }
        } finally {
          await contender.stop();
        }
      }
    } finally {
      dir.remove();
    }
    return {
      versions: packageVersions([
        '@mailroom/core',
        '@mailroom/sqlite',
        '@mailroom/rabbitmq',
        '@mailroom/nats',
        'zod',
        'pino',
        'better-sqlite3',
        'amqplib',
        '@nats-io/jetstream',
      ]),
      settings: { count, prefetch: PREFETCH, window: WINDOW, samplingIntervalUs: 200, natsServers: NATS_SERVERS },
      recorder,
      notes: [
        'Read the rows of one case together: each is the median of its own rounds, so they add up to the total only roughly. They show where a change moves the cost; compare a row across runs, not against another machine.',
      ],
    };
  },
};
