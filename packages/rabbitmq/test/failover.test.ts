import { Services, serviceAvailable, startProxy, testMessage, uniqueName, waitUntil } from '@mailroom/conformance';
import { connectTransport, HeaderNames } from '@mailroom/core';
import { connect } from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { createRabbitMqTransport, type RabbitMqTransport, topologyNames } from '../src/index.js';
import { endpointQueueArguments, ownQueueArguments } from '../src/names.js';
import { holdSharedBrokerLock } from './broker-lock.js';
import { capturingLogger, deleteNamespace, RABBITMQ_URL, testNamespace } from './support.js';

const available = await serviceAvailable(Services.rabbitmq);
const namespace = testNamespace('failover');
const replicatedNamespace = testNamespace('replicated');

/** Subscribes a fresh endpoint and returns a function that publishes one message and waits until it is handled. */
async function roundTrips(transport: RabbitMqTransport, endpoint = uniqueName('failover')): Promise<() => Promise<void>> {
  const type = uniqueName('Failover');
  const got = new Set<string>();
  await transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 1 }, async (d) => {
    got.add(d.headers[HeaderNames.id] as string);
    await d.ack();
  });
  return async () => {
    const message = testMessage(type, new TextEncoder().encode('{}'));
    await transport.publish(message);
    await waitUntil(() => got.has(message.headers[HeaderNames.id] as string), 15_000);
  };
}

// The two "nodes" are two proxies in front of the one test broker: what matters is which address the transport dials.
describe.runIf(available)('rabbitmq transport with several nodes', () => {
  holdSharedBrokerLock();
  afterAll(async () => {
    await deleteNamespace(namespace);
    await deleteNamespace(replicatedNamespace);
  });

  it('connects to the next node of the URL when the first one refuses', async () => {
    const [down, up] = [await startProxy(), await startProxy()];
    down.refuse(true);
    try {
      const transport = await createRabbitMqTransport({
        url: `amqp://guest:guest@127.0.0.1:${down.port},127.0.0.1:${up.port}`,
        namespace,
        connectTimeoutMs: 5000,
      });
      try {
        await (await roundTrips(transport))();
      } finally {
        await transport.close();
      }
    } finally {
      await down.close();
      await up.close();
    }
  });

  it('moves to another node when its node dies, and publishing and consuming go on there', async () => {
    const [first, second] = [await startProxy(), await startProxy()];
    const logger = capturingLogger();
    try {
      const transport = await createRabbitMqTransport({
        url: [`amqp://guest:guest@127.0.0.1:${first.port}`, `amqp://guest:guest@127.0.0.1:${second.port}`],
        namespace,
        logger,
        reconnectInitialDelayMs: 50,
        unavailableTimeoutMs: 10_000,
      });
      try {
        const roundTrip = await roundTrips(transport);
        await roundTrip();
        // The first node dies for good: without moving on, the transport would redial it until unavailableTimeoutMs.
        first.refuse(true);
        first.cut();
        await roundTrip();
        const reconnected = logger.lines.find((line) => (line.fields as { event?: string }).event === 'reconnected');
        expect((reconnected?.fields as { node?: string } | undefined)?.node).toContain(`:${second.port}`);
      } finally {
        await transport.close();
      }
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('declares every queue as a quorum queue of the group size ?replicas= names (error queue, registry and locks included)', async () => {
    const transport = (await connectTransport(`${RABBITMQ_URL}?replicas=1`, { namespace: replicatedNamespace })) as RabbitMqTransport;
    const endpoint = uniqueName('replicated');
    try {
      await (await roundTrips(transport, endpoint))();
      await transport.deadLetters.list(); // browses the error queue under its lock
    } finally {
      await transport.close();
    }
    const names = topologyNames(replicatedNamespace);
    const amqp = await connect(RABBITMQ_URL);
    // RabbitMQ compares these arguments on a redeclaration: "same" proves the queue has exactly them.
    const redeclare = async (queue: string, args: Record<string, unknown>) => {
      const channel = await amqp.createChannel();
      channel.on('error', () => undefined);
      try {
        await channel.assertQueue(queue, { durable: true, arguments: args });
        return 'same';
      } catch (error) {
        return String(error).includes('PRECONDITION') ? 'different' : String(error);
      } finally {
        await channel.close().catch(() => undefined);
      }
    };
    try {
      const endpointArgs = endpointQueueArguments('quorum', names.errorQueue, 50); // 50: the default deliveryLimit
      expect(await redeclare(endpoint, { ...endpointArgs, 'x-quorum-initial-group-size': 1 })).toBe('same');
      expect(await redeclare(endpoint, endpointArgs)).toBe('different');
      for (const queue of [names.errorQueue, names.registry, names.lock(names.errorQueue)]) {
        expect(await redeclare(queue, ownQueueArguments(1)), queue).toBe('same');
        expect(await redeclare(queue, { 'x-queue-type': 'classic' }), queue).toBe('different');
      }
    } finally {
      await amqp.close();
    }
  });
});
