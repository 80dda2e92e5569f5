import * as hdr from 'hdr-histogram-js';

/** A latency histogram in microseconds (HdrHistogram, 3 significant digits, up to 60 s). */
export class LatencyHistogram {
  private readonly histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });

  /** Records one latency given in milliseconds. */
  recordMs(ms: number): void {
    this.histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  /** The latency at `percentile` (0-100) in milliseconds. */
  percentileMs(percentile: number): number {
    return this.histogram.getValueAtPercentile(percentile) / 1000;
  }
}
