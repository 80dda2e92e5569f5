import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep, waitUntil } from '../helpers.js';
import { CHAOS_CONFIG_ENV, type ChaosAllowance, type ChaosChildConfig, type ChaosReport } from './chaos-protocol.js';

/** What a total-queue check does to the system at a point of the run. */
export interface Disruption {
  /** When: once this fraction of the messages (0..1) is confirmed. */
  readonly at: number;
  /** `kill-leader`: SIGKILL the node leading the queue or stream, restart it after `nodeDownMs`; `kill-consumer`: SIGKILL a consumer process and start a new one. */
  readonly kind: 'kill-leader' | 'kill-consumer';
}

/** The broker cluster under test, as the engine's own scripts drive it. */
export interface ChaosCluster {
  /** The name of the node leading the endpoint's queue (or stream) now, or undefined while it has none. */
  leader(): Promise<string | undefined>;
  /** Kills the node with SIGKILL and resolves once its process is gone. */
  kill(node: string): Promise<void>;
  /** Starts the node again and resolves once it serves (and is back in the cluster). */
  restart(node: string): Promise<void>;
}

/** Options of {@link runTotalQueueCheck}. */
export interface TotalQueueCheckOptions {
  /** The transport URL every process connects with (`connectTransport`), naming every node. */
  readonly url: string;
  /** JSON-safe options for `connectTransport` (namespace or prefix, replicas, timeouts). */
  readonly transportOptions: Record<string, unknown>;
  readonly endpoint: string;
  readonly type: string;
  /** Unique messages the producer publishes. */
  readonly total: number;
  /** The producer's pace, so the disruptions fall while it publishes (it catches up after an outage). */
  readonly ratePerSecond: number;
  readonly publishConcurrency: number;
  /** Consumer processes at any time, and deliveries each handles at once. */
  readonly consumers: number;
  readonly consumerConcurrency: number;
  readonly disruptions: readonly Disruption[];
  readonly cluster: ChaosCluster;
  /** How long a killed node stays down before it is restarted. */
  readonly nodeDownMs: number;
  /** How long to wait, after the producer finished, for every confirmed message to be handled. */
  readonly settleTimeoutMs: number;
}

/** What happened around one leader kill. */
export interface LeaderKillReport {
  readonly node: string;
  /** Messages confirmed when it was killed. */
  readonly atConfirmed: number;
  /** From the kill until the restarted node served again. */
  readonly nodeBackMs: number;
  /** The longest time without a confirmed publish, from the kill on (the publishers' stall). */
  readonly publishStallMs: number;
  /** The longest time without a handled delivery, from the kill on (the consumers' stall). */
  readonly deliveryStallMs: number;
}

/** The outcome of a total-queue check. */
export interface TotalQueueReport {
  readonly total: number;
  /** Publishes the broker confirmed. */
  readonly confirmed: number;
  /** Confirmed messages never handled: must be 0. */
  readonly lost: number;
  /** Distinct messages handled. */
  readonly handled: number;
  /** Handlings beyond the first of a message (redeliveries after kills and lost acks). */
  readonly duplicates: number;
  /** Publish calls that failed and were made again. */
  readonly publishRetries: number;
  readonly leaderKills: readonly LeaderKillReport[];
  readonly consumerKills: number;
  /** From the first publish until every confirmed message was handled (or the settle timeout). */
  readonly durationMs: number;
  /** Epoch ms of the first publish. */
  readonly startedAt: number;
  /** Connection events the processes logged, and the kills, for the record. */
  readonly events: readonly { readonly who: string; readonly event: string; readonly at: number }[];
}

const here = fileURLToPath(new URL('.', import.meta.url));
const fromSource = import.meta.url.endsWith('.ts');

/** Starts a child (producer or consumer) of the check; TypeScript sources run through tsx. */
function startChild(file: string, config: ChaosChildConfig): ChildProcess {
  const path = join(here, `${file}${fromSource ? '.ts' : '.js'}`);
  const args = fromSource ? ['--conditions=source', '--import', 'tsx', path] : [path];
  return spawn(process.execPath, args, {
    cwd: join(here, '..', '..', '..', '..'),
    env: { ...process.env, [CHAOS_CONFIG_ENV]: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** The longest gap between consecutive times in `times` (sorted) at or after `from`, counting from `from` itself. */
function longestGap(times: readonly number[], from: number, until: number): number {
  let previous = from;
  let longest = 0;
  for (const time of times) {
    if (time < from) continue;
    if (time > until) break;
    longest = Math.max(longest, time - previous);
    previous = time;
  }
  return Math.max(longest, until - previous);
}

/**
 * A total-queue check (after the Jepsen one): a producer process publishes `total` unique
 * messages, consumer processes handle and ack them, while the leader node of the queue is
 * SIGKILLed and restarted and consumers are SIGKILLed and replaced at the given points. Every
 * message the broker confirmed must be handled at least once (`lost` = 0); duplicates are counted.
 * Resolves with the figures once every confirmed message was handled or the settle timeout passed;
 * throws when a child process cannot start or the cluster cannot be driven.
 */
export async function runTotalQueueCheck(options: TotalQueueCheckOptions): Promise<TotalQueueReport> {
  const base = { url: options.url, transportOptions: options.transportOptions, endpoint: options.endpoint, type: options.type };
  const confirmed = new Set<string>();
  const confirmTimes: number[] = [];
  const handled = new Map<string, number>();
  const handleTimes: number[] = [];
  const events: { who: string; event: string; at: number }[] = [];
  const children = new Set<ChildProcess>();
  let deliveries = 0;
  const gatedTimes: number[] = [];
  let producerDone: { retries: number } | undefined;
  let consumerCount = 0;

  const start = (file: 'chaos-producer' | 'chaos-consumer', who: string, config: ChaosChildConfig): Promise<ChildProcess> => {
    const child = startChild(file, config);
    children.add(child);
    child.on('exit', () => children.delete(child));
    return new Promise((resolve, reject) => {
      const early = (code: number | null) => reject(new Error(`${who} exited with ${code} before it was ready`));
      child.once('exit', early);
      child.on('message', (report: ChaosReport) => {
        if (report.kind === 'ready') {
          child.off('exit', early);
          resolve(child);
        } else if (report.kind === 'confirmed') {
          for (const id of report.ids) confirmed.add(id);
          confirmTimes.push(report.at);
        } else if (report.kind === 'handled') {
          for (const id of report.ids) handled.set(id, (handled.get(id) ?? 0) + 1);
          deliveries += report.ids.length;
          handleTimes.push(report.at);
        } else if (report.kind === 'event') {
          events.push({ who, event: report.detail ? `${report.event} (${report.detail})` : report.event, at: report.at });
        } else if (report.kind === 'gated') {
          gatedTimes.push(report.at);
        } else if (report.kind === 'done') {
          producerDone = { retries: report.retries };
        }
      });
    });
  };
  const startConsumer = () => {
    consumerCount += 1;
    return start('chaos-consumer', `consumer-${consumerCount}`, { ...base, concurrency: options.consumerConcurrency });
  };

  const consumers: ChildProcess[] = [];
  const kills: { node: string; at: number; atConfirmed: number; backAt: number }[] = [];
  let consumerKills = 0;
  try {
    for (let i = 0; i < options.consumers; i++) consumers.push(await startConsumer());
    const started = Date.now();
    const producer = await start('chaos-producer', 'producer', {
      ...base,
      total: options.total,
      publishConcurrency: options.publishConcurrency,
      ratePerSecond: options.ratePerSecond,
    });
    // The producer may publish up to a disruption's point until the disruption is ready (a leader lookup
    // can take seconds with rabbitmqctl), then a further share of `lead`: every kill falls while
    // publishes are in flight, however long the previous node took to come back.
    const allow = (upTo: number) => producer.send({ kind: 'allow', upTo: Math.min(options.total, Math.ceil(upTo)) } satisfies ChaosAllowance);
    const lead = 0.1 * options.total;
    for (const disruption of [...options.disruptions].sort((a, b) => a.at - b.at)) {
      const point = disruption.at * options.total;
      allow(point);
      const node = disruption.kind === 'kill-leader' ? await waitForLeader(options.cluster) : undefined;
      allow(point + lead);
      await waitUntil(
        () => confirmed.size >= point + lead / 10 || producerDone !== undefined,
        600_000,
        () => `(${confirmed.size} confirmed)`,
      );
      if (node === undefined) {
        const victim = consumers.shift();
        victim?.kill('SIGKILL');
        events.push({ who: 'test', event: 'consumer SIGKILLed', at: Date.now() });
        consumerKills += 1;
        consumers.push(await startConsumer());
        continue;
      }
      const at = Date.now();
      const atConfirmed = confirmed.size;
      await options.cluster.kill(node);
      events.push({ who: 'test', event: `leader ${node} SIGKILLed`, at });
      await sleep(options.nodeDownMs);
      await options.cluster.restart(node);
      kills.push({ node, at, atConfirmed, backAt: Date.now() });
      events.push({ who: 'test', event: `${node} back`, at: Date.now() });
    }
    allow(options.total);
    while (!producerDone) await sleep(20);
    const deadline = Date.now() + options.settleTimeoutMs;
    while ([...confirmed].some((id) => !handled.has(id)) && Date.now() < deadline) await sleep(100);
    const finished = Date.now();
    const sortedConfirms = [...confirmTimes].sort((a, b) => a - b);
    const sortedHandles = [...handleTimes].sort((a, b) => a - b);
    const lastConfirm = sortedConfirms.at(-1) ?? finished;
    const lastHandle = sortedHandles.at(-1) ?? finished;
    // A stall is measured until the producer next waited for its allowance (or 30 s after the node was back).
    const windowEnd = (kill: { at: number; backAt: number }, last: number) =>
      Math.min(last, kill.backAt + 30_000, ...gatedTimes.filter((time) => time > kill.at));
    return {
      total: options.total,
      confirmed: confirmed.size,
      lost: [...confirmed].filter((id) => !handled.has(id)).length,
      handled: handled.size,
      duplicates: deliveries - handled.size,
      publishRetries: producerDone.retries,
      consumerKills,
      leaderKills: kills.map((kill) => ({
        node: kill.node,
        atConfirmed: kill.atConfirmed,
        nodeBackMs: kill.backAt - kill.at,
        publishStallMs: longestGap(sortedConfirms, kill.at, windowEnd(kill, lastConfirm)),
        deliveryStallMs: longestGap(sortedHandles, kill.at, windowEnd(kill, lastHandle)),
      })),
      durationMs: finished - started,
      startedAt: started,
      events,
    };
  } finally {
    for (const child of children) child.kill('SIGKILL');
  }
}

/** The current leader, asked until there is one (an election may be under way). */
async function waitForLeader(cluster: ChaosCluster): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const leader = await cluster.leader();
    if (leader !== undefined) return leader;
    if (Date.now() > deadline) throw new Error('the queue had no leader for 60 s');
    await sleep(200);
  }
}

/** The report as a few lines for a test's output and the docs; with `timeline`, every event after them. */
export function formatTotalQueueReport(engine: string, report: TotalQueueReport, timeline = false): string {
  const lines = [
    `[${engine} chaos] ${report.total} messages, ${report.leaderKills.length} leader kills (SIGKILL, restart), ${report.consumerKills} consumer kills (SIGKILL, replaced)`,
    `  confirmed ${report.confirmed}, lost ${report.lost}, handled ${report.handled}, duplicates ${report.duplicates}, publish retries ${report.publishRetries}, total ${(report.durationMs / 1000).toFixed(1)} s`,
  ];
  for (const [i, kill] of report.leaderKills.entries()) {
    lines.push(
      `  leader kill ${i + 1}: ${kill.node} at ${kill.atConfirmed} confirmed; node back after ${kill.nodeBackMs} ms; longest stall: publishes ${kill.publishStallMs} ms, deliveries ${kill.deliveryStallMs} ms`,
    );
  }
  if (timeline) {
    for (const event of [...report.events].sort((a, b) => a.at - b.at)) lines.push(`    ${event.at - report.startedAt} ms ${event.who}: ${event.event}`);
  }
  return lines.join('\n');
}
