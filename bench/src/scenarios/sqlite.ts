import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { mailroomSqlite } from '../contenders/mailroom-sqlite.js';
import { rawSqliteQueue } from '../contenders/raw-sqlite-queue.js';
import { interleave } from '../interleave.js';
import { MessagingBench } from '../messaging-runs.js';
import { Recorder } from '../recorder.js';
import type { Scenario } from '../scenario.js';
import { significant } from '../stats.js';
import { tempDir } from '../temp-dir.js';
import { packageVersions } from '../versions.js';

const PREFETCH = 64;
const GROUP_WINDOW = 256;
const RAW = 'raw SQL, a transaction per write';

/** Scenario 3: the embedded SQLite transport vs a hand-written SQL queue. */
export const sqliteScenario: Scenario = {
  name: 'sqlite',
  title: 'Embedded SQLite transport vs a hand-written SQL queue',
  description:
    'Publish -> claim -> handle -> delete, 1 KiB messages, one process, WAL and synchronous=NORMAL for all, each contender on its own file. ' +
    `The raw queue claims up to ${PREFETCH} rows with one UPDATE ... RETURNING and deletes each row after handling; "a transaction per write" commits every insert and every delete on its own, ` +
    '"group commit" commits the inserts (and the deletes) of one event-loop turn together. Mailroom "one at a time" awaits each publish before the next (each publish is its own commit); ' +
    `"group commit" keeps ${GROUP_WINDOW} publishes in flight, so its write batcher commits many per transaction. Consumers take at most ${PREFETCH} at once. Throughput: first publish to last delivery.`,
  async run(context) {
    const recorder = new Recorder();
    const dir = tempDir('mailroom-bench-sqlite');
    const count = context.size(10_000, 500);
    const contenders = [
      {
        window: 1,
        bench: new MessagingBench(rawSqliteQueue({ name: RAW, path: join(dir.path, 'raw1.db'), commit: 'per-message', prefetch: PREFETCH, leaseMs: 30_000 })),
      },
      {
        window: GROUP_WINDOW,
        bench: new MessagingBench(
          rawSqliteQueue({ name: 'raw SQL, group commit', path: join(dir.path, 'raw2.db'), commit: 'group', prefetch: PREFETCH, leaseMs: 30_000 }),
        ),
      },
      {
        window: 1,
        bench: new MessagingBench(
          mailroomSqlite({ name: 'mailroom, one at a time', path: join(dir.path, 'mr1.db'), endpoint: 'bench-one', prefetch: PREFETCH }),
        ),
      },
      {
        window: GROUP_WINDOW,
        bench: new MessagingBench(
          mailroomSqlite({ name: 'mailroom, group commit', path: join(dir.path, 'mr2.db'), endpoint: 'bench-group', prefetch: PREFETCH }),
        ),
      },
    ];
    const byName = new Map(contenders.map((c) => [c.bench.contender.name, c]));
    try {
      for (const { bench } of contenders) await bench.start();
      await interleave([...byName.keys()], context.rounds, context.warmup, async (name, measured) => {
        const { bench, window } = byName.get(name) as (typeof contenders)[number];
        const result = await bench.throughput(count, window, 120_000);
        context.log(`${name}: ${Math.round(result.perSecond)} msg/s${measured ? '' : ' (warm-up)'}`);
        if (measured) recorder.add('end to end', name, 'throughput', 'msg/s', 'higher', significant(result.perSecond));
      });
    } finally {
      for (const { bench } of contenders) await bench.contender.stop();
      dir.remove();
    }
    recorder.compare('end to end', 'throughput', 'mailroom, one at a time', RAW, { op: '>=', value: 0.8 });
    recorder.compare('end to end', 'throughput', 'mailroom, group commit', RAW, { op: '>=', value: 5 });
    recorder.compare('end to end', 'throughput', 'mailroom, group commit', 'raw SQL, group commit');
    const memory = new BetterSqlite3(':memory:');
    const sqliteVersion = memory.prepare('SELECT sqlite_version() AS v').pluck().get() as string;
    memory.close();
    return {
      versions: { sqlite: sqliteVersion, ...packageVersions(['better-sqlite3', '@mailroom/core', '@mailroom/sqlite', 'zod']) },
      settings: { count, prefetch: PREFETCH, groupWindow: GROUP_WINDOW, journalMode: 'WAL', synchronous: 'NORMAL', messageBytes: 1024 },
      recorder,
      notes: [],
    };
  },
};
