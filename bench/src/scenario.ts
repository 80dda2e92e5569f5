import type { Recorder } from './recorder.js';

/** What a scenario is given: sizes, rounds and a progress log. */
export interface ScenarioContext {
  /** Multiplies message counts and durations (1 = the full run). */
  readonly scale: number;
  /** Measured rounds per contender (at least 5 for a full run). */
  readonly rounds: number;
  /** Warm-up rounds per contender, run first and not kept. */
  readonly warmup: number;
  /** `n` times the scale, rounded, and never below `min`. */
  size(n: number, min?: number): number;
  /** Prints one progress line to stderr. */
  log(message: string): void;
}

/** What a scenario hands back besides its timing: versions, settings, measurements and notes. */
export interface ScenarioOutput {
  readonly versions: Record<string, string>;
  readonly settings: Record<string, unknown>;
  readonly recorder: Recorder;
  readonly notes: string[];
}

/** One benchmark scenario of the issue, run by name (`npm run bench -- <name>`). */
export interface Scenario {
  readonly name: string;
  readonly title: string;
  /** What is measured and how, in a sentence or two; goes into BENCHMARKS.md. */
  readonly description: string;
  run(context: ScenarioContext): Promise<ScenarioOutput>;
}
