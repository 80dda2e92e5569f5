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

/** The ratio of a contender's median to a baseline's median for one metric, with its target when the issue sets one. */
export interface Comparison {
  readonly group: string;
  readonly metric: string;
  readonly contender: string;
  readonly baseline: string;
  readonly ratio: number;
  readonly target: Target | undefined;
  /** Undefined when there is no target. */
  readonly met: boolean | undefined;
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
  /** Observations worth reading next to the numbers (a peer's missing durability, say). */
  readonly notes: string[];
}
