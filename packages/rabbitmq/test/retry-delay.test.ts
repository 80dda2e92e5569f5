import { Services, serviceAvailable, testMessage, uniqueName, waitUntil } from '@mailroom/conformance';
import { connect } from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { createRabbitMqTransport, DELAY_LEVELS, MAX_DELAY_MS, type RabbitMqTransport, topologyNames } from '../src/index.js';
import { holdSharedBrokerLock } from './broker-lock.js';
import { deleteNamespace, RABBITMQ_URL, testNamespace } from './support.js';

const available = await serviceAvailable(Services.rabbitmq);
const namespace = testNamespace('retry-delay');
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

describe.runIf(available)('rabbitmq retry delays out of range', () => {
  holdSharedBrokerLock();
  let transport: RabbitMqTransport | undefined;
  afterAll(async () => {
    await transport?.close();
    await deleteNamespace(namespace);
  });

  it('settles every retry, so a delay too long or invalid never keeps the only prefetch slot', async () => {
    transport = await createRabbitMqTransport({ url: RABBITMQ_URL, namespace });
    const endpoint = uniqueName('retry-range');
    const type = uniqueName('RetryRange');
    const seen: string[] = [];
    const refused: unknown[] = [];
    await transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 1 }, async (delivery) => {
      const name = (JSON.parse(Buffer.from(delivery.body).toString()) as { name: string }).name;
      seen.push(`${name}#${delivery.attempt}`);
      if (name === 'too-long') await delivery.retry(MAX_DELAY_MS * 2, { reason: 'MAILROOM_ERR_HANDLER_FAILED', errorMessage: 'later' });
      else if (name === 'invalid' && delivery.attempt === 1) {
        await delivery.retry(-5, { reason: 'MAILROOM_ERR_HANDLER_FAILED', errorMessage: 'bad delay' }).catch((error: unknown) => refused.push(error));
      } else await delivery.ack();
    });
    for (const name of ['too-long', 'invalid', 'last']) await transport.publish(testMessage(type, json({ name })));
    await waitUntil(
      () => seen.includes('last#1') && seen.includes('invalid#2'),
      15_000,
      () => `handled ${seen.join(', ')}: a retry left its delivery unsettled`,
    );
    expect([...seen].sort()).toEqual(['invalid#1', 'invalid#2', 'last#1', 'too-long#1']);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ code: 'MAILROOM_ERR_TRANSPORT_CONFIG' });

    // The too-long retry waits in the top delay level, capped at the longest delay.
    const admin = await connect(RABBITMQ_URL);
    try {
      const channel = await admin.createChannel();
      const top = await channel.checkQueue(topologyNames(namespace).delayLevel(DELAY_LEVELS - 1));
      expect(top.messageCount).toBe(1);
      const waiting = await channel.get(topologyNames(namespace).delayLevel(DELAY_LEVELS - 1));
      expect(waiting === false ? undefined : waiting.properties.type).toBe(type); // ce-type, in the AMQP type property (both envelope forms)
      await channel.close();
    } finally {
      await admin.close();
    }
  }, 30_000);
});
