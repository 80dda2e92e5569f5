import { interleave } from './interleave.js';
import type { MessagingContender } from './messaging-contender.js';
import { MessagingBench } from './messaging-runs.js';
import type { Recorder } from './recorder.js';
import type { ScenarioContext } from './scenario.js';
import { significant } from './stats.js';

/** Sizes of one messaging comparison. */
export interface MessagingSizes {
  /** Messages per throughput round. */
  readonly throughputCount: number;
  /** Publishes awaiting their confirm at once in throughput rounds (the confirm window). */
  readonly window: number;
  /** Seconds each fixed-rate round lasts. */
  readonly latencySeconds: number;
  /** Fixed rates to measure latency at: numbers are messages per second, `half` is half the baseline's median throughput. */
  readonly rates: readonly (number | 'half')[];
  /** The slowest throughput expected of a contender (msg/s), for the run timeouts (4x the time it implies). Default 500. */
  readonly slowestRate?: number;
}

/** The metric names a messaging comparison records. */
export const MessagingMetrics = {
  throughput: 'throughput',
  p50: (rate: number | 'half') => `p50 at ${rateLabel(rate)}`,
  p99: (rate: number | 'half') => `p99 at ${rateLabel(rate)}`,
} as const;

function rateLabel(rate: number | 'half'): string {
  return rate === 'half' ? 'half max' : `${rate / 1000}k/s`;
}

/**
 * Runs contenders side by side on one broker: throughput rounds (closed loop, `window` publishes
 * in flight), then a fixed-rate latency phase per rate; every phase interleaves the contenders
 * (A B A B ...) after a warm-up. The first contender is the baseline: `half` is half its median
 * throughput. Records into `recorder` under `group`; returns the rates used.
 */
export async function runMessagingComparison(
  context: ScenarioContext,
  recorder: Recorder,
  group: string,
  contenders: readonly MessagingContender[],
  sizes: MessagingSizes,
): Promise<{ rates: Record<string, number> }> {
  const benches = new Map(contenders.map((c) => [c.name, new MessagingBench(c)]));
  const names = contenders.map((c) => c.name);
  const baseline = names[0] as string;
  const rates: Record<string, number> = {};
  try {
    for (const bench of benches.values()) {
      context.log(`${group}: starting ${bench.contender.name}`);
      await bench.start();
    }
    const timeout = (count: number, rate: number) => Math.max(30_000, (count / rate) * 4000);
    await interleave(names, context.rounds, context.warmup, async (name, measured) => {
      const bench = benches.get(name) as MessagingBench;
      const result = await bench.throughput(sizes.throughputCount, sizes.window, timeout(sizes.throughputCount, sizes.slowestRate ?? 500));
      const duplicates = result.duplicates > 0 ? `, ${result.duplicates} duplicate deliveries` : '';
      context.log(`${group}: ${name} throughput ${Math.round(result.perSecond)} msg/s${duplicates}${measured ? '' : ' (warm-up)'}`);
      if (measured) recorder.add(group, name, MessagingMetrics.throughput, 'msg/s', 'higher', significant(result.perSecond));
    });
    for (const rate of sizes.rates) {
      const perSecond = rate === 'half' ? Math.max(100, Math.round(recorder.median(group, baseline, MessagingMetrics.throughput) / 2)) : rate;
      rates[rateLabel(rate)] = perSecond;
      const count = Math.max(100, Math.round(perSecond * sizes.latencySeconds));
      await interleave(names, context.rounds, context.warmup, async (name, measured) => {
        const bench = benches.get(name) as MessagingBench;
        const result = await bench.latency(count, perSecond, timeout(count, perSecond / 4));
        context.log(
          `${group}: ${name} at ${perSecond}/s (achieved ${Math.round(result.achievedRate)}/s) p50 ${result.p50Ms.toFixed(2)} ms p99 ${result.p99Ms.toFixed(2)} ms${measured ? '' : ' (warm-up)'}`,
        );
        if (measured) {
          recorder.add(group, name, MessagingMetrics.p50(rate), 'ms', 'lower', significant(result.p50Ms));
          recorder.add(group, name, MessagingMetrics.p99(rate), 'ms', 'lower', significant(result.p99Ms));
        }
      });
    }
  } finally {
    for (const bench of benches.values()) {
      await bench.contender.stop().catch((error: unknown) => context.log(`${group}: stopping ${bench.contender.name} failed: ${String(error)}`));
      if (bench.strays > 0) context.log(`${group}: ${bench.contender.name} delivered ${bench.strays} message(s) outside their run`);
    }
  }
  return { rates };
}
