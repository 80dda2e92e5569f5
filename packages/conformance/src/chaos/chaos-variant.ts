import type { TotalQueueCheckOptions } from './total-queue-check.js';

/** The size and schedule of a total-queue check, without what names the cluster under test. */
export type ChaosVariant = Pick<
  TotalQueueCheckOptions,
  'total' | 'ratePerSecond' | 'publishConcurrency' | 'consumers' | 'consumerConcurrency' | 'disruptions' | 'nodeDownMs' | 'settleTimeoutMs'
> & { readonly name: string };

const disruptions = [
  { at: 0.2, kind: 'kill-leader' },
  { at: 0.35, kind: 'kill-consumer' },
  { at: 0.55, kind: 'kill-leader' },
  { at: 0.75, kind: 'kill-consumer' },
] as const;

/**
 * The chaos tests' size: a short run by default (what CI runs: 6 000 messages at 200/s, 30 s of
 * publishing when nothing fails; the producer waits at each kill's point until the kill is ready
 * and at most 10 % beyond it until the node is back), the long one with
 * `MAILROOM_CHAOS=long` (90 000 messages at 600/s, 150 s, three consumer processes, nodes down 5 s).
 * Both kill the leader twice and a consumer twice.
 */
export function chaosVariant(env: NodeJS.ProcessEnv = process.env): ChaosVariant {
  if (env.MAILROOM_CHAOS === 'long') {
    return {
      name: 'long',
      total: 90_000,
      ratePerSecond: 600,
      publishConcurrency: 128,
      consumers: 3,
      consumerConcurrency: 32,
      disruptions,
      nodeDownMs: 5000,
      settleTimeoutMs: 180_000,
    };
  }
  return {
    name: 'short',
    total: 6000,
    ratePerSecond: 200,
    publishConcurrency: 64,
    consumers: 2,
    consumerConcurrency: 32,
    disruptions,
    nodeDownMs: 1000,
    settleTimeoutMs: 90_000,
  };
}
