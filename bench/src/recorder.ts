import type { BaselineCandidate, Better, Comparison, Measurement, Target, Threshold } from './results.js';
import { median } from './stats.js';

interface Series {
  group: string;
  contender: string;
  metric: string;
  unit: string;
  better: Better;
  samples: number[];
}

/** A series named across groups: a candidate of a derived baseline. */
export interface SeriesRef {
  readonly group: string;
  readonly contender: string;
}

interface Wanted {
  group: string;
  metric: string;
  contender: string;
  baseline: string;
  baselines: readonly SeriesRef[] | undefined;
  target: Target | undefined;
}

/** Whether `value` meets `target`; false when it is not a finite number. */
function meets(value: number, target: Target): boolean {
  if (!Number.isFinite(value)) return false;
  return target.op === '>=' ? value >= target.value : value <= target.value;
}

/** Collects the value of every measured round per (group, contender, metric), then their medians and ratios. */
export class Recorder {
  private readonly series = new Map<string, Series>();
  private readonly wanted: Wanted[] = [];
  private readonly bounds: { group: string; metric: string; contender: string; target: Target }[] = [];

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

  /** Asks for the ratio contender / baseline of a metric in the result, with the issue's target if any. */
  compare(group: string, metric: string, contender: string, baseline: string, target?: Target): void {
    this.wanted.push({ group, metric, contender, baseline, baselines: undefined, target });
  }

  /**
   * Asks for the ratio of the contender to the least median of `baselines` (series of the same
   * metric, in any group), as in "relay >= 0.7x min(raw insert, raw publish)"; the result lists
   * every candidate with its median, so the report shows which one the baseline was.
   */
  compareToLeast(group: string, metric: string, contender: string, baselines: readonly SeriesRef[], target?: Target): void {
    const label = `min(${baselines.map((b) => `${b.contender} [${b.group}]`).join(', ')})`;
    this.wanted.push({ group, metric, contender, baseline: label, baselines, target });
  }

  /** Asks whether the contender's median itself meets `target`, in the metric's own unit (an absolute target such as p50 <= 10 ms). */
  bound(group: string, metric: string, contender: string, target: Target): void {
    this.bounds.push({ group, metric, contender, target });
  }

  /** Every series with its median. */
  measurements(): Measurement[] {
    return [...this.series.values()].map((s) => ({ ...s, median: median(s.samples) }));
  }

  /** The ratios asked for with {@link compare} and {@link compareToLeast}. */
  comparisons(): Comparison[] {
    return this.wanted.map(({ group, metric, contender, baseline, baselines, target }) => {
      const candidates: BaselineCandidate[] | undefined = baselines?.map((b) => ({ ...b, median: this.median(b.group, b.contender, metric) }));
      const base = candidates ? Math.min(...candidates.map((c) => c.median)) : this.median(group, baseline, metric);
      const ratio = this.median(group, contender, metric) / base;
      return {
        group,
        metric,
        contender,
        baseline,
        ...(candidates && { baselines: candidates }),
        ratio,
        target,
        met: target === undefined ? undefined : meets(ratio, target),
      };
    });
  }

  /** The absolute targets asked for with {@link bound}. */
  thresholds(): Threshold[] {
    return this.bounds.map(({ group, metric, contender, target }) => {
      const value = this.median(group, contender, metric);
      const unit = this.series.get(`${group}\u0000${contender}\u0000${metric}`)?.unit ?? '';
      return { group, metric, contender, unit, median: value, target, met: meets(value, target) };
    });
  }
}
