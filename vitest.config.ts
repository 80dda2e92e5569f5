import { configDefaults, defineConfig } from 'vitest/config';

const roots = ['packages/*/src/**/', 'packages/*/test/**/', 'examples/*/test/**/'];
/**
 * Test files that stop or disturb a shared broker or database (restart it, raise an alarm on it).
 * They run after every other file, one at a time, so no other test uses a service while it is down.
 */
const disruptive = '*.disruptive.test.ts';

export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
  test: {
    env: { MAILROOM_LOG_LEVEL: process.env.MAILROOM_LOG_LEVEL ?? 'silent' },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest runs the groups one after the other: every ordinary file (in parallel), then the disruptive ones alone.
    projects: [
      {
        extends: true,
        test: {
          name: 'ordinary',
          include: roots.map((root) => `${root}*.test.ts`),
          exclude: [...configDefaults.exclude, `**/${disruptive}`],
          // Most of these files wait on brokers, databases and child processes rather than compute:
          // two at a time even on two cores (Vitest's default, cores - 1, runs them one by one).
          // MAILROOM_TEST_WORKERS overrides it.
          maxWorkers: Number(process.env.MAILROOM_TEST_WORKERS ?? 2),
        },
      },
      {
        extends: true,
        test: { name: 'disruptive', include: roots.map((root) => `${root}${disruptive}`), fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
