import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScenarioResult } from './results.js';

/** The bench/ directory (this file runs from bench/dist). */
export const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Where result files and the chart go. */
export const RESULTS_DIR = join(BENCH_DIR, 'results');
/** The report at the repository root. */
export const BENCHMARKS_MD = join(BENCH_DIR, '..', 'BENCHMARKS.md');
/** The chart the report shows. */
export const CHART_SVG = join(RESULTS_DIR, 'chart.svg');

/** Writes `bench/results/<scenario>.json`. */
export function writeResult(result: ScenarioResult): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${result.scenario}.json`);
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
  return path;
}

/** Every result file, in `order` (scenario names) first, then the others by name. */
export function readResults(order: readonly string[]): ScenarioResult[] {
  let files: string[] = [];
  try {
    files = readdirSync(RESULTS_DIR).filter((file) => file.endsWith('.json'));
  } catch {
    return [];
  }
  const results = files.map((file) => JSON.parse(readFileSync(join(RESULTS_DIR, file), 'utf8')) as ScenarioResult);
  const rank = (name: string) => (order.includes(name) ? order.indexOf(name) : order.length);
  return results.sort((a, b) => rank(a.scenario) - rank(b.scenario) || a.scenario.localeCompare(b.scenario));
}
