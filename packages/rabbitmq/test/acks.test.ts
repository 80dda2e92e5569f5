import { Services, serviceAvailable, testMessage, uniqueName, waitUntil } from '@mailroom/conformance';
import { type Delivery, HeaderNames } from '@mailroom/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createRabbitMqTransport } from '../src/index.js';
import { holdSharedBrokerLock } from './broker-lock.js';
import { deleteNamespace, RABBITMQ_URL, testNamespace } from './support.js';

const available = await serviceAvailable(Services.rabbitmq);
const namespace = testNamespace('acks');
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

describe.runIf(available)('rabbitmq transport acknowledgements (sent once per tick)', () => {
  holdSharedBrokerLock();
  afterAll(() => deleteNamespace(namespace));

  it('never acknowledges a message left unsettled, and sends the acks given right before close()', async () => {
    const endpoint = uniqueName('acks');
    const type = uniqueName('AckCommand');
    const count = 20;
    const first = await createRabbitMqTransport({ url: RABBITMQ_URL, namespace });
    const held: Delivery[] = [];
    try {
      await first.subscribe({ endpoint, events: [], commands: [type], concurrency: count }, async (delivery) => {
        held.push(delivery);
      });
      for (let i = 0; i < count; i++) await first.publish(testMessage(type, json({ i }), {}, endpoint));
      await waitUntil(
        () => held.length === count,
        10_000,
        () => `held ${held.length}/${count}`,
      );
      // Out of order, around one message left unsettled (the fifth): a `multiple` ack must never cover it.
      const order = [...held.keys()].filter((i) => i !== 4).sort((a, b) => ((a * 7) % count) - ((b * 7) % count));
      for (const i of order) await (held[i] as Delivery).ack();
    } finally {
      await first.close(); // in the tick of the last acks
    }

    const second = await createRabbitMqTransport({ url: RABBITMQ_URL, namespace });
    try {
      const again: string[] = [];
      await second.subscribe({ endpoint, events: [], commands: [type], concurrency: count }, async (delivery) => {
        again.push(delivery.headers[HeaderNames.id] as string);
        await delivery.ack();
      });
      await waitUntil(
        () => again.length >= 1,
        10_000,
        () => 'the unsettled message did not come back',
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(again).toEqual([(held[4] as Delivery).headers[HeaderNames.id]]);
    } finally {
      await second.close();
    }
  });
});
