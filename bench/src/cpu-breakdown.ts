import { Session } from 'node:inspector/promises';

/** Where a message's CPU time goes, by the job of the code that spent it. */
export const COST_CATEGORIES = [
  'codec',
  'envelope',
  'ids',
  'validation',
  'middleware',
  'endpoint',
  'telemetry',
  'logging',
  'transport',
  'bench harness',
  'garbage collection',
  'runtime',
] as const;

/** One of {@link COST_CATEGORIES}. */
export type CostCategory = (typeof COST_CATEGORIES)[number];

/**
 * Rules from a script URL to the category of its code, tried in order. A sample is charged to the
 * innermost frame of its stack that one of these matches (so `JSON.parse` called by the codec is
 * codec time, a uuid made for an envelope is ids time); a stack nothing matches is runtime.
 */
const RULES: readonly [RegExp, CostCategory][] = [
  [/\/node_modules\/uuid\//, 'ids'],
  [/\/packages\/core\/dist\/codec\.js$|\/node_modules\/secure-json-parse\//, 'codec'],
  [/\/packages\/core\/dist\/envelope\.js$|\/packages\/core\/dist\/internal\/(header-values|stored-headers)\.js$/, 'envelope'],
  [/\/packages\/core\/dist\/(validate|contract)\.js$|\/node_modules\/zod\/|\/node_modules\/@standard-schema\//, 'validation'],
  [/\/packages\/core\/dist\/middleware\.js$/, 'middleware'],
  [/\/packages\/core\/dist\/telemetry\/|\/node_modules\/@opentelemetry\//, 'telemetry'],
  [
    /\/packages\/core\/dist\/logger\.js$|\/node_modules\/(pino|pino-std-serializers|sonic-boom|thread-stream|fast-redact|quick-format-unescaped|atomic-sleep)\//,
    'logging',
  ],
  [/\/packages\/core\/dist\/(endpoint|endpoint-health|recoverability|errors)\.js$/, 'endpoint'],
  [
    /\/packages\/core\/dist\/memory-transport\.js$|\/packages\/(sqlite|rabbitmq|nats|postgres)\/dist\/|\/node_modules\/(better-sqlite3|amqplib|@nats-io|pg|pg-protocol|buffer-more-ints)\//,
    'transport',
  ],
  [/\/bench\/dist\//, 'bench harness'],
];

/** The category of one script URL, or undefined when no rule names it. */
export function categoryOfUrl(url: string): CostCategory | undefined {
  for (const [pattern, category] of RULES) if (pattern.test(url)) return category;
  return undefined;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
}

/**
 * Sums a V8 CPU profile's sampled time by category: each sample goes to the innermost frame of
 * its stack a {@link categoryOfUrl} rule matches, else to runtime; V8's `(garbage collector)`
 * samples to garbage collection. Idle samples (`(idle)`) are left out. Returns the share of sampled busy time per category (summing to 1).
 */
export function shareByCategory(profile: CpuProfile): Map<CostCategory, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const categoryOfNode = new Map<number, CostCategory | 'idle'>();
  const resolve = (id: number): CostCategory | 'idle' => {
    const known = categoryOfNode.get(id);
    if (known) return known;
    const node = byId.get(id) as ProfileNode;
    let category: CostCategory | 'idle';
    if (node.callFrame.functionName === '(idle)') category = 'idle';
    else if (node.callFrame.functionName === '(garbage collector)') category = 'garbage collection';
    else {
      const own = categoryOfUrl(node.callFrame.url);
      const parent = parentOf.get(id);
      category = own ?? (parent === undefined ? 'runtime' : resolve(parent));
      if (category === 'idle') category = 'runtime';
    }
    categoryOfNode.set(id, category);
    return category;
  };
  const micros = new Map<CostCategory, number>();
  let busy = 0;
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const category = resolve(samples[i] as number);
    if (category === 'idle') continue;
    const delta = Math.max(0, deltas[i + 1] ?? deltas[i] ?? 0);
    micros.set(category, (micros.get(category) ?? 0) + delta);
    busy += delta;
  }
  return new Map(COST_CATEGORIES.map((category) => [category, busy > 0 ? (micros.get(category) ?? 0) / busy : 0]));
}

/**
 * Runs `work` under V8's sampling profiler (this process's main thread, every `intervalUs`) and
 * returns its share of busy time per category ({@link shareByCategory}).
 */
export async function profileShares(work: () => Promise<void>, intervalUs = 200): Promise<Map<CostCategory, number>> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
    await session.post('Profiler.start');
    let failure: unknown;
    try {
      await work();
    } catch (err) {
      failure = err;
    }
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile };
    if (failure !== undefined) throw failure;
    return shareByCategory(profile);
  } finally {
    await session.post('Profiler.disable').catch(() => {});
    session.disconnect();
  }
}

/** CPU time (user + system, every thread of the process) that `work` took, in microseconds. */
export async function cpuMicros(work: () => Promise<void>): Promise<number> {
  const before = process.cpuUsage();
  await work();
  const used = process.cpuUsage(before);
  return used.user + used.system;
}
