import { rmSync } from 'node:fs';
import { toolAvailable, uniqueName } from '@mailroom/conformance';
import { chaosVariant, formatTotalQueueReport, runTotalQueueCheck } from '@mailroom/conformance/chaos';
import { describe, expect, it } from 'vitest';
import {
  killRabbitMqNode,
  quorumLeader,
  type RabbitMqCluster,
  rabbitMqScriptsDir,
  rabbitMqTestDir,
  startRabbitMqCluster,
  startRabbitMqNode,
  stopRabbitMqCluster,
} from '../../../scripts/cluster/rabbitmq-cluster.mjs';

const installed = toolAvailable({
  name: 'RabbitMQ (for a 3-node cluster of its own)',
  found: rabbitMqScriptsDir() !== undefined,
  install: 'apt-get install rabbitmq-server',
});
const variant = chaosVariant();

// Disruptive only in weight (three Erlang nodes, SIGKILLs): the cluster is this file's own, on ports and node names of its own.
describe.runIf(installed)('rabbitmq transport on a 3-node cluster', () => {
  it(`handles every confirmed message of ${variant.total} while the queue leader is SIGKILLed twice and consumers are killed (${variant.name})`, async () => {
    const dir = await rabbitMqTestDir();
    let cluster: RabbitMqCluster | undefined;
    try {
      cluster = await startRabbitMqCluster({ dir });
      const endpoint = uniqueName('chaos');
      const nodeNamed = (name: string) => (cluster as RabbitMqCluster).nodes.find((node) => node.name === name) ?? assertNever(name);
      const report = await runTotalQueueCheck({
        ...variant,
        url: cluster.url,
        transportOptions: { namespace: uniqueName('chaos'), replicas: 3, unavailableTimeoutMs: 120_000, heartbeatSeconds: 5 },
        endpoint,
        type: uniqueName('Chaos'),
        cluster: {
          leader: async () => (await quorumLeader(cluster as RabbitMqCluster, endpoint))?.name,
          kill: (name) => killRabbitMqNode(nodeNamed(name)),
          restart: (name) => startRabbitMqNode(cluster as RabbitMqCluster, nodeNamed(name)),
        },
      });
      console.log(formatTotalQueueReport('rabbitmq', report, process.env.MAILROOM_CHAOS_TIMELINE !== undefined));
      expect(report.leaderKills).toHaveLength(2);
      expect(report.consumerKills).toBe(2);
      expect(report.confirmed).toBe(variant.total);
      expect(report.lost).toBe(0);
    } finally {
      await stopRabbitMqCluster({ dir });
      rmSync(dir, { recursive: true, force: true });
    }
  }, 900_000);
});

function assertNever(name: string): never {
  throw new Error(`no node named ${name} in the cluster`);
}
