import type { Better, Comparison, Measurement, Target } from './results.js';
import { median } from './stats.js';

interface Series {
  group: string;
  contender: string;
  metric: string;
  unit: string;
  better: Better;
  samples: number[];
}

/** Collects the value of every measured round per (group, contender, metric), then their medians and ratios. */
export class Recorder {
  private readonly series = new Map<string, Series>();
  private readonly wanted: { group: string; metric: string; contender: string; baseline: string; target: Target | undefined }[] = [];

  /** Records the value of one measured round. */
  add(group: string, contender: string, metric: string, unit: string, better: Better, value: number): void {
    const key = `${group}\u0000${contender}\u0000${metric}`;
    let series = this.series.get(key);
    if (!series) {
      series = { group, contender, metric, unit, better, samples: [] };
      this.series.set(key, series);
    }
    series.samples.push(value);
  }

  /** The median so far of a series; NaN when it has no sample. */
  median(group: string, contender: string, metric: string): number {
    return median(this.series.get(`${group}\u0000${contender}\u0000${metric}`)?.samples ?? []);
  }

  /** Asks for the ratio contender / baseline of a metric in the result, with the target if any. */
  compare(group: string, metric: string, contender: string, baseline: string, target?: Target): void {
    this.wanted.push({ group, metric, contender, baseline, target });
  }

  /** Every series with its median. */
  measurements(): Measurement[] {
    return [...this.series.values()].map((s) => ({ ...s, median: median(s.samples) }));
  }

  /** The ratios asked for with {@link compare}. */
  comparisons(): Comparison[] {
    return this.wanted.map(({ group, metric, contender, baseline, target }) => {
      const ratio = this.median(group, contender, metric) / this.median(group, baseline, metric);
      const met = target === undefined || !Number.isFinite(ratio) ? undefined : target.op === '>=' ? ratio >= target.value : ratio <= target.value;
      return { group, metric, contender, baseline, ratio, target, met: target !== undefined && !Number.isFinite(ratio) ? false : met };
    });
  }
}
