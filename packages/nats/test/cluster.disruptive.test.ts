import { rmSync } from 'node:fs';
import { toolAvailable, uniqueName } from '@mailroom/conformance';
import { chaosVariant, formatTotalQueueReport, runTotalQueueCheck } from '@mailroom/conformance/chaos';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import {
  killNatsNode,
  type NatsCluster,
  natsServerBinary,
  natsTestDir,
  startNatsCluster,
  startNatsNode,
  stopNatsCluster,
} from '../../../scripts/cluster/nats-cluster.mjs';
import { createNatsNames } from '../src/nats-names.js';
import { uniquePrefix } from './helpers.js';

const installed = toolAvailable({
  name: 'nats-server (for a 3-node cluster of its own)',
  found: natsServerBinary() !== undefined,
  install: 'apt-get install nats-server',
});
const variant = chaosVariant();

// Disruptive only in weight (SIGKILLs under load): the cluster is this file's own, on ports and directories of its own.
describe.runIf(installed)('NATS JetStream transport on a 3-node cluster', () => {
  it(`handles every confirmed message of ${variant.total} while the stream leader is SIGKILLed twice and consumers are killed (${variant.name})`, async () => {
    const dir = await natsTestDir();
    let observer: Awaited<ReturnType<typeof connect>> | undefined;
    try {
      const cluster = await startNatsCluster({ dir });
      observer = await connect({ servers: [...cluster.servers], maxReconnectAttempts: -1, reconnectTimeWait: 100 });
      const jsm = await jetstreamManager(observer, { timeout: 2000 });
      const prefix = uniquePrefix('chaos');
      const stream = createNatsNames(prefix).eventsStream;
      const nodeNamed = (name: string) => cluster.nodes.find((node) => node.name === name) ?? assertNever(name);
      const report = await runTotalQueueCheck({
        ...variant,
        url: `${cluster.url}?replicas=3`,
        transportOptions: { prefix, ackWaitMs: 5000, publishTimeoutMs: 120_000, connectOptions: { reconnectTimeWait: 100 } },
        endpoint: uniqueName('chaos'),
        type: uniqueName('Chaos'),
        cluster: {
          leader: async () => (await jsm.streams.info(stream).catch(() => undefined))?.cluster?.leader,
          kill: (name) => killNatsNode(nodeNamed(name)),
          restart: (name) => startNatsNode(cluster as NatsCluster, nodeNamed(name)),
        },
      });
      console.log(formatTotalQueueReport('nats', report, process.env.MAILROOM_CHAOS_TIMELINE !== undefined));
      expect(report.leaderKills).toHaveLength(2);
      expect(report.consumerKills).toBe(2);
      expect(report.confirmed).toBe(variant.total);
      expect(report.lost).toBe(0);
    } finally {
      await observer?.close();
      await stopNatsCluster({ dir });
      rmSync(dir, { recursive: true, force: true });
    }
  }, 900_000);
});

function assertNever(name: string): never {
  throw new Error(`no server named ${name} in the cluster`);
}
