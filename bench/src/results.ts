import type { LoadSample, MachineInfo } from './machine-info.js';

/** Whether a larger or a smaller value of a metric is better. */
export type Better = 'higher' | 'lower';

/** One metric of one contender in one group of a scenario: the value of every measured round and their median. */
export interface Measurement {
  /** The case within the scenario, such as `classic` or `quorum`. */
  readonly group: string;
  readonly contender: string;
  readonly metric: string;
  readonly unit: string;
  readonly better: Better;
  /** One value per measured round (warm-up rounds excluded), in round order. */
  readonly samples: number[];
  readonly median: number;
}

/** A target of the issue: the ratio of a contender to its baseline must be `>=` or `<=` `value`. */
export interface Target {
  readonly op: '>=' | '<=';
  readonly value: number;
}

/** One of the series a derived baseline is the least of, with its median. */
export interface BaselineCandidate {
  readonly group: string;
  readonly contender: string;
  readonly median: number;
}

/** The ratio of a contender's median to a baseline's median for one metric, with its target when the issue sets one. */
export interface Comparison {
  readonly group: string;
  readonly metric: string;
  readonly contender: string;
  /** The baseline contender in `group`, or for a derived baseline a label such as `min(a, b)`. */
  readonly baseline: string;
  /** Set when the baseline is the least median of these series (possibly of other groups), as in "0.7x min(raw insert, raw publish)". */
  readonly baselines?: readonly BaselineCandidate[];
  readonly ratio: number;
  readonly target: Target | undefined;
  /** Undefined when there is no target. */
  readonly met: boolean | undefined;
}

/** An absolute target of the issue: the contender's median itself must be `>=` or `<=` `target.value` (in `unit`). */
export interface Threshold {
  readonly group: string;
  readonly metric: string;
  readonly contender: string;
  readonly unit: string;
  readonly median: number;
  readonly target: Target;
  readonly met: boolean;
}

/** Everything one scenario run produced: what `bench/results/<scenario>.json` holds. */
export interface ScenarioResult {
  readonly scenario: string;
  readonly title: string;
  readonly description: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationS: number;
  readonly machine: MachineInfo;
  readonly load: { readonly start: LoadSample; readonly end: LoadSample };
  /** Node, packages and servers, name to version. */
  readonly versions: Record<string, string>;
  /** Sizes, rounds and client settings the scenario ran with. */
  readonly settings: Record<string, unknown>;
  readonly measurements: Measurement[];
  readonly comparisons: Comparison[];
  /** Absolute targets (absent in result files written before they existed). */
  readonly thresholds?: Threshold[];
  /** Observations worth reading next to the numbers (a peer's missing durability, say). */
  readonly notes: string[];
}
