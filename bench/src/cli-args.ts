import { parseArgs } from 'node:util';

/** What `npm run bench -- ...` asked for. */
export interface BenchArgs {
  /** Scenario names; empty for all. */
  readonly scenarios: string[];
  readonly scale: number;
  readonly rounds: number;
  readonly warmup: number;
  /** Wait for the 1-minute load average to fall below this before starting (0: do not wait). */
  readonly waitForLoad: number;
  /** Longest wait for the load, in minutes. */
  readonly maxWaitMinutes: number;
  /** Write bench/results/*.json and regenerate BENCHMARKS.md. */
  readonly write: boolean;
  /** Only regenerate BENCHMARKS.md and the chart from the result files already written. */
  readonly reportOnly: boolean;
  readonly help: boolean;
}

/** The usage text of the harness. */
export const USAGE = `usage: npm run bench -- [scenario...] [options]
scenarios: all when none is named
options:
  --scale <x>     multiply message counts and durations (default 1; 0.1 for a quick try)
  --rounds <n>    measured rounds per contender (default 5)
  --warmup <n>    warm-up rounds per contender (default 1)
  --max-load <x>  wait for the 1-minute load average to fall below x, checking every minute (default 1.5; 0 = don't wait)
  --max-wait <m>  wait at most m minutes for that, then run anyway and record the load (default 20)
  --no-write      print only; leave bench/results and BENCHMARKS.md alone
  --report-only   run nothing; regenerate BENCHMARKS.md and the chart from bench/results`;

/** Parses the command line; throws with a message naming the bad option. */
export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      scale: { type: 'string', default: '1' },
      rounds: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      'max-load': { type: 'string', default: '1.5' },
      'max-wait': { type: 'string', default: '20' },
      'no-write': { type: 'boolean', default: false },
      'report-only': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const number = (value: string | undefined, name: string, min: number) => {
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < min) throw new Error(`--${name} must be a number >= ${min}, got ${value}`);
    return parsed;
  };
  return {
    scenarios: positionals,
    scale: number(values.scale, 'scale', 0.001),
    rounds: Math.round(number(values.rounds, 'rounds', 1)),
    warmup: Math.round(number(values.warmup, 'warmup', 0)),
    waitForLoad: number(values['max-load'], 'max-load', 0),
    maxWaitMinutes: number(values['max-wait'], 'max-wait', 0),
    write: !values['no-write'],
    reportOnly: values['report-only'] === true,
    help: values.help === true,
  };
}
