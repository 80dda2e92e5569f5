import { type BenchMessage, benchMessage } from './bench-message.js';
import { LatencyHistogram } from './latency-histogram.js';
import { runPaced, runWindowed } from './load-drivers.js';
import type { MessagingContender } from './messaging-contender.js';

interface Run {
  readonly base: number;
  readonly count: number;
  readonly seen: Uint8Array;
  unique: number;
  duplicates: number;
  lastAt: number;
  readonly histogram: LatencyHistogram | undefined;
  done: () => void;
}

/** What one throughput run measured. */
export interface ThroughputResult {
  /** Messages handled per second, from the first publish to the last delivery. */
  readonly perSecond: number;
  readonly duplicates: number;
}

/** What one fixed-rate run measured. */
export interface LatencyResult {
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** The publish rate achieved (messages / time from the first to the last publish). */
  readonly achievedRate: number;
  readonly duplicates: number;
}

/**
 * Drives a started {@link MessagingContender}: closed-loop throughput runs and fixed-rate latency
 * runs. Sequence numbers never repeat across runs, so a late duplicate of an earlier run is
 * counted as a stray instead of completing a later one. Every run waits until each of its
 * messages was delivered at least once, or fails after its timeout.
 */
export class MessagingBench {
  private current: Run | undefined;
  private nextSeq = 0;
  /** Deliveries that belonged to no running run. */
  strays = 0;

  constructor(readonly contender: MessagingContender) {}

  /** Starts the contender, wiring its deliveries to the runs. */
  start(): Promise<void> {
    return this.contender.start((message) => this.deliver(message));
  }

  /** Publishes `count` messages keeping `window` publishes awaiting their confirm; resolves when all were delivered. */
  async throughput(count: number, window: number, timeoutMs: number): Promise<ThroughputResult> {
    const run = this.begin(count, undefined);
    const started = performance.now();
    const delivered = this.completion(run, timeoutMs);
    await runWindowed(count, window, (i) => this.contender.publish(benchMessage(run.base + i)));
    await delivered;
    return { perSecond: count / ((run.lastAt - started) / 1000), duplicates: run.duplicates };
  }

  /** Publishes `count` messages at `rate` per second and records publish-to-handler latency in an HdrHistogram. */
  async latency(count: number, rate: number, timeoutMs: number): Promise<LatencyResult> {
    const histogram = new LatencyHistogram();
    const run = this.begin(count, histogram);
    const delivered = this.completion(run, timeoutMs);
    const started = performance.now();
    let lastPublish = started;
    await runPaced(count, rate, (i) => {
      lastPublish = performance.now();
      return this.contender.publish(benchMessage(run.base + i, lastPublish));
    });
    await delivered;
    const span = (lastPublish - started) / 1000;
    return {
      p50Ms: histogram.percentileMs(50),
      p99Ms: histogram.percentileMs(99),
      achievedRate: span > 0 ? (count - 1) / span : rate,
      duplicates: run.duplicates,
    };
  }

  private begin(count: number, histogram: LatencyHistogram | undefined): Run {
    const run: Run = { base: this.nextSeq, count, seen: new Uint8Array(count), unique: 0, duplicates: 0, lastAt: 0, histogram, done: () => undefined };
    this.nextSeq += count;
    this.current = run;
    return run;
  }

  private completion(run: Run, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.current === run) this.current = undefined;
        reject(new Error(`${this.contender.name}: only ${run.unique} of ${run.count} messages were delivered within ${timeoutMs} ms`));
      }, timeoutMs);
      run.done = () => {
        clearTimeout(timer);
        if (this.current === run) this.current = undefined;
        resolve();
      };
    });
  }

  private deliver(message: BenchMessage): void {
    const now = performance.now();
    const run = this.current;
    const index = run ? message.seq - run.base : -1;
    if (!run || index < 0 || index >= run.count) {
      this.strays += 1;
      return;
    }
    if (run.seen[index] === 1) {
      run.duplicates += 1;
      return;
    }
    run.seen[index] = 1;
    run.unique += 1;
    run.histogram?.recordMs(now - message.sentAt);
    run.lastAt = now;
    if (run.unique === run.count) run.done();
  }
}
