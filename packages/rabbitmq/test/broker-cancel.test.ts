import { Services, serviceAvailable, testMessage, uniqueName, waitUntil } from '@mailroom/conformance';
import { type Delivery, HeaderNames } from '@mailroom/core';
import { connect } from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { createRabbitMqTransport } from '../src/index.js';
import { holdSharedBrokerLock } from './broker-lock.js';
import { capturingLogger, deleteNamespace, RABBITMQ_URL, testNamespace } from './support.js';

const available = await serviceAvailable(Services.rabbitmq);
const namespace = testNamespace('cancel');
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

describe.runIf(available)('rabbitmq transport when the broker cancels the consumer', () => {
  holdSharedBrokerLock();
  afterAll(() => deleteNamespace(namespace));

  it('declares the deleted queue and its bindings again and resumes consuming', async () => {
    const logger = capturingLogger();
    const transport = await createRabbitMqTransport({ url: RABBITMQ_URL, namespace, logger, reconnectInitialDelayMs: 50 });
    const admin = await connect(RABBITMQ_URL);
    try {
      const endpoint = uniqueName('cancelled');
      const type = uniqueName('Cancelled');
      const command = uniqueName('CancelledCommand');
      const held: Delivery[] = [];
      const handled: string[] = [];
      await transport.subscribe({ endpoint, events: [type], commands: [command], concurrency: 4 }, async (delivery) => {
        const id = delivery.headers[HeaderNames.id] as string;
        if (held.length < 2 && !handled.includes(id)) {
          held.push(delivery); // in flight while the queue is deleted
          return;
        }
        handled.push(id);
        await delivery.ack();
      });
      for (let i = 0; i < 2; i++) await transport.publish(testMessage(type, json({ i })));
      await waitUntil(
        () => held.length === 2,
        10_000,
        () => `held ${held.length}`,
      );

      const channel = await admin.createChannel();
      await channel.deleteQueue(transport.queueOf(endpoint));
      // Settling deliveries of the deleted queue must neither throw nor break the consumer.
      for (const delivery of held) await delivery.ack().catch(() => undefined);

      await waitUntil(
        () => logger.lines.some((line) => (line.fields as { event?: string }).event === 'consumer-resumed'),
        10_000,
        () => 'the consumer did not resume',
      );
      const lost = logger.lines.find((line) => (line.fields as { event?: string }).event === 'consumer-lost');
      expect(String((lost?.fields as { reason?: string } | undefined)?.reason)).toContain('cancelled the consumer');
      const { consumerCount } = await channel.checkQueue(transport.queueOf(endpoint));
      expect(consumerCount).toBe(1);

      const event = testMessage(type, json({ after: true }));
      const sent = testMessage(command, json({ command: true }), {}, endpoint);
      await transport.publish(event);
      await transport.publish(sent);
      await waitUntil(
        () => handled.length === 2,
        10_000,
        () => `handled ${handled.length}/2 after the queue came back`,
      );
      expect(handled.sort()).toEqual([event.headers[HeaderNames.id], sent.headers[HeaderNames.id]].sort());
      await channel.close();
    } finally {
      await transport.close();
      await admin.close();
    }
  });

  it('declares a deleted exchange again before publishing to it', async () => {
    const transport = await createRabbitMqTransport({ url: RABBITMQ_URL, namespace });
    const admin = await connect(RABBITMQ_URL);
    try {
      const type = uniqueName('Redeclared');
      await transport.publish(testMessage(type, json({ before: true })));
      const channel = await admin.createChannel();
      await channel.deleteExchange(transport.topology.events);
      await transport.publish(testMessage(type, json({ after: true })));
      await channel.checkExchange(transport.topology.events);
      await channel.close();
    } finally {
      await transport.close();
      await admin.close();
    }
  });
});
