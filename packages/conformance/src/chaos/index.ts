/**
 * `@mailroom/conformance/chaos`: the total-queue check, which proves a transport loses no
 * confirmed message while broker nodes and consumer processes are killed.
 */
export type { ChaosChildConfig, ChaosReport } from './chaos-protocol.js';
export { type ChaosVariant, chaosVariant } from './chaos-variant.js';
export {
  type ChaosCluster,
  type Disruption,
  formatTotalQueueReport,
  type LeaderKillReport,
  runTotalQueueCheck,
  type TotalQueueCheckOptions,
  type TotalQueueReport,
} from './total-queue-check.js';
