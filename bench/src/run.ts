import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { type BenchArgs, parseBenchArgs, USAGE } from './cli-args.js';
import { loadSample, machineInfo } from './machine-info.js';
import { renderBenchmarksMd } from './report/benchmarks-md.js';
import { renderChartSvg } from './report/chart-svg.js';
import { baselineText } from './report/format.js';
import { BENCHMARKS_MD, CHART_SVG, readResults, writeResult } from './result-files.js';
import type { ScenarioResult } from './results.js';
import type { Scenario, ScenarioContext } from './scenario.js';
import { scenarios } from './scenarios/index.js';
import { waitForLoad } from './wait-for-load.js';

process.env.MAILROOM_LOG_LEVEL ??= 'warn';

const log = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

async function runScenario(scenario: Scenario, args: BenchArgs): Promise<ScenarioResult> {
  const context: ScenarioContext = {
    scale: args.scale,
    rounds: args.rounds,
    warmup: args.warmup,
    size: (n, min = 1) => Math.max(min, Math.round(n * args.scale)),
    log: (line) => log(`${scenario.name}: ${line}`),
  };
  const start = loadSample();
  const startedAt = new Date();
  log(`${scenario.name}: start (load ${start.loadavg.join(' ')})`);
  const output = await scenario.run(context);
  const finishedAt = new Date();
  return {
    scenario: scenario.name,
    title: scenario.title,
    description: scenario.description,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationS: Math.round((finishedAt.getTime() - startedAt.getTime()) / 100) / 10,
    machine: machineInfo(),
    load: { start, end: loadSample() },
    versions: { node: process.version, ...output.versions },
    settings: { rounds: args.rounds, warmup: args.warmup, scale: args.scale, ...output.settings },
    measurements: output.recorder.measurements(),
    comparisons: output.recorder.comparisons(),
    thresholds: output.recorder.thresholds(),
    notes: output.notes,
  };
}

function printSummary(result: ScenarioResult): void {
  for (const c of result.comparisons) {
    const target = c.target ? ` (target ${c.target.op} ${c.target.value}: ${c.met ? 'met' : 'MISSED'})` : '';
    log(`${result.scenario}/${c.group}: ${c.metric} ${c.contender} / ${baselineText(c)} = ${c.ratio.toFixed(3)}${target}`);
  }
  for (const t of result.thresholds ?? []) {
    log(
      `${result.scenario}/${t.group}: ${t.metric} ${t.contender} = ${t.median} ${t.unit} (target ${t.target.op} ${t.target.value} ${t.unit}: ${t.met ? 'met' : 'MISSED'})`,
    );
  }
}

async function main(): Promise<number> {
  const args = parseBenchArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const unknown = args.scenarios.filter((name) => !scenarios.some((s) => s.name === name));
  if (unknown.length > 0) {
    process.stderr.write(`unknown scenario(s): ${unknown.join(', ')}; known: ${scenarios.map((s) => s.name).join(', ')}\n${USAGE}\n`);
    return 2;
  }
  const selected = args.reportOnly ? [] : args.scenarios.length === 0 ? scenarios : scenarios.filter((s) => args.scenarios.includes(s.name));
  if (args.waitForLoad > 0 && selected.length > 0) await waitForLoad(args.waitForLoad, args.maxWaitMinutes * 60_000, log);
  let failures = 0;
  for (const scenario of selected) {
    try {
      const result = await runScenario(scenario, args);
      printSummary(result);
      if (args.write) log(`${scenario.name}: wrote ${relative(process.cwd(), writeResult(result))} (${result.durationS} s)`);
    } catch (error) {
      failures += 1;
      log(`${scenario.name}: FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }
  if (args.write) {
    const results = readResults(scenarios.map((s) => s.name));
    writeFileSync(CHART_SVG, renderChartSvg(results));
    writeFileSync(BENCHMARKS_MD, renderBenchmarksMd(results, new Map(scenarios.map((s) => [s.name, s]))));
    log(`regenerated ${relative(process.cwd(), BENCHMARKS_MD)} and ${relative(process.cwd(), CHART_SVG)} from ${results.length} result file(s)`);
  }
  return failures === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
