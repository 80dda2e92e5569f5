import { Services, serviceAvailable, testMessage, uniqueName, waitUntil } from '@mailroom/conformance';
import { createEndpoint, type DeadLetter, defineEvent, ErrorCodes, HeaderNames, type Headers, isMailroomError } from '@mailroom/core';
import { connect } from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRabbitMqTransport, RabbitMqErrorCodes, type RabbitMqTransport } from '../src/index.js';
import { holdSharedBrokerLock } from './broker-lock.js';
import { deleteNamespace, RABBITMQ_URL, testNamespace } from './support.js';

const available = await serviceAvailable(Services.rabbitmq);
const namespace = testNamespace('dlq');
const freshNamespace = testNamespace('dlq-fresh');
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** Takes one message from the queue with a plain amqplib client and rejects it without requeue, so RabbitMQ dead-letters it. */
async function rejectWithAnotherClient(queue: string): Promise<void> {
  const admin = await connect(RABBITMQ_URL);
  try {
    const channel = await admin.createChannel();
    let got: Awaited<ReturnType<typeof channel.get>> = false;
    while (got === false) got = await channel.get(queue);
    channel.nack(got, false, false);
    await channel.close();
  } finally {
    await admin.close();
  }
}

async function waitForLetters(transport: RabbitMqTransport, endpoint: string, count: number): Promise<DeadLetter[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const letters = await transport.deadLetters.list({ endpoint });
    if (letters.length >= count) return letters;
    if (Date.now() > deadline) throw new Error(`${letters.length}/${count} dead letters for ${endpoint}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.runIf(available)('rabbitmq dead letters', () => {
  holdSharedBrokerLock();
  const transports: RabbitMqTransport[] = [];
  const open = async () => {
    const transport = await createRabbitMqTransport({ url: RABBITMQ_URL, namespace });
    transports.push(transport);
    return transport;
  };
  afterAll(async () => {
    await Promise.all(transports.map((t) => t.close()));
    await deleteNamespace(namespace);
    await deleteNamespace(freshNamespace);
  });

  it('dead-letters a poison message through an endpoint after exactly the configured attempts, with the delays respected', async () => {
    const transport = await open();
    const name = uniqueName('poison');
    const contract = defineEvent(uniqueName('PoisonPill'), { version: 1, schema: z.object({ n: z.number() }) });
    const delays = [0, 300, 600, 1200];
    const endpoint = createEndpoint({
      name,
      transport,
      recoverability: { immediateRetries: 1, delayedRetries: 3, initialDelayMs: 300, factor: 2, jitter: 0 },
    });
    const attempts: number[] = [];
    const at: number[] = [];
    let firstHeaders: Readonly<Headers> = {};
    let healed = false;
    const handled: number[] = [];
    endpoint.on(contract, async (_message, ctx) => {
      if (healed) {
        handled.push(ctx.attempt);
        return;
      }
      if (ctx.attempt === 1) firstHeaders = { ...ctx.headers };
      attempts.push(ctx.attempt);
      at.push(performance.now());
      throw new Error(`fails on attempt ${ctx.attempt}`);
    });
    await endpoint.start();
    try {
      const started = new Date();
      const { id } = await endpoint.publish(contract, { n: 42 });
      const [letter] = await waitForLetters(transport, name, 1);
      expect(attempts).toEqual([1, 2, 3, 4, 5]);
      const gaps = at.slice(1).map((t, i) => t - (at[i] as number));
      const lateness = gaps.map((gap, i) => Math.round(gap - (delays[i] as number)));
      console.log(
        `[rabbitmq] poison message: retry gaps ${gaps.map(Math.round).join(', ')} ms for delays ${delays.join(', ')} ms (late by ${lateness.join(', ')} ms)`,
      );
      for (const [i, gap] of gaps.entries()) {
        expect(gap, `retry ${i + 1} waited at least its delay`).toBeGreaterThanOrEqual((delays[i] as number) - 1);
        expect(gap, `retry ${i + 1} came back within a generous tolerance`).toBeLessThan((delays[i] as number) + 2000);
      }

      expect(letter?.messageId).toBe(id);
      expect(letter?.endpoint).toBe(name);
      expect(letter?.type).toBe(contract.type);
      expect(letter?.reason).toBe(ErrorCodes.HANDLER_FAILED);
      expect(letter?.attempts).toBe(5);
      expect(letter?.errorMessage).toBe('fails on attempt 5');
      expect(letter?.errorStack).toMatch(/Error: fails on attempt 5\n\s+at /);
      expect(letter?.headers).toEqual(firstHeaders);
      expect(Buffer.from(letter?.body ?? []).toString()).toBe('{"n":42}');
      const { firstFailureAt, lastFailureAt, deadLetteredAt } = letter as DeadLetter;
      expect(firstFailureAt.getTime()).toBeGreaterThanOrEqual(started.getTime() - 1000);
      expect(lastFailureAt.getTime() - firstFailureAt.getTime()).toBeGreaterThanOrEqual(2000);
      expect(deadLetteredAt.getTime()).toBeGreaterThanOrEqual(lastFailureAt.getTime());
      const info = (await transport.queues()).find((q) => q.endpoint === name);
      expect(info?.deadLetters).toBe(1);
      expect(info?.events).toEqual([contract.type]);

      healed = true;
      await transport.deadLetters.replay(letter?.id as string);
      await waitUntil(
        () => handled.length === 1,
        10_000,
        () => 'the replayed message was not handled',
      );
      expect(handled).toEqual([1]);
      expect(await transport.deadLetters.list({ endpoint: name })).toEqual([]);
    } finally {
      await endpoint.stop({ timeoutMs: 100 });
    }
  });

  it('lists, gets and purges with every filter, from another process-like connection too', async () => {
    const transport = await open();
    const other = await open();
    const [a, b] = [uniqueName('dlq-a'), uniqueName('dlq-b')];
    const [typeX, typeY] = [uniqueName('TypeX'), uniqueName('TypeY')];
    for (const endpoint of [a, b]) {
      await transport.subscribe({ endpoint, events: [typeX, typeY], commands: [], concurrency: 4 }, (d) =>
        d.deadLetter({ reason: ErrorCodes.HANDLER_FAILED, errorMessage: 'no', attempts: d.attempt, firstFailureAt: new Date(), lastFailureAt: new Date() }),
      );
    }
    for (let i = 0; i < 2; i++) await transport.publish(testMessage(typeX, json({ i })));
    await waitForLetters(other, a, 2);
    await waitForLetters(other, b, 2);
    const middle = new Date();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await transport.publish(testMessage(typeY, json({ y: true })));
    await waitForLetters(other, a, 3);
    await waitForLetters(other, b, 3);

    const all = await other.deadLetters.list({ endpoint: a });
    expect(all.map((l) => l.type)).toEqual([typeX, typeX, typeY]);
    expect(all.every((l, i) => i === 0 || l.deadLetteredAt >= (all[i - 1] as DeadLetter).deadLetteredAt)).toBe(true);
    expect((await other.deadLetters.list({ endpoint: a, type: typeY })).map((l) => l.type)).toEqual([typeY]);
    expect((await other.deadLetters.list({ endpoint: a, since: middle })).map((l) => l.type)).toEqual([typeY]);
    expect((await other.deadLetters.list({ endpoint: a, limit: 2 })).length).toBe(2);
    const first = all[0] as DeadLetter;
    expect((await other.deadLetters.list({ ids: [first.id] })).map((l) => l.id)).toEqual([first.id]);
    expect((await other.deadLetters.get(first.id)).messageId).toBe(first.messageId);
    await expect(other.deadLetters.get('no-such-id')).rejects.toSatisfy((e) => isMailroomError(e, ErrorCodes.DEAD_LETTER_NOT_FOUND));
    await expect(other.deadLetters.replay('no-such-id')).rejects.toSatisfy((e) => isMailroomError(e, ErrorCodes.DEAD_LETTER_NOT_FOUND));

    expect(await other.deadLetters.purge({ type: typeY, endpoint: b })).toBe(1);
    expect(await other.deadLetters.purge({ endpoint: b })).toBe(2);
    expect(await other.deadLetters.list({ endpoint: b })).toEqual([]);
    expect((await other.deadLetters.list({ endpoint: a })).length).toBe(3);
    expect(await other.deadLetters.purge({ endpoint: a, limit: 1 })).toBe(1);
    expect((await other.deadLetters.list({ endpoint: a })).length).toBe(2);
  });

  for (const form of ['compact', 'full'] as const) {
    it(`keeps every envelope attribute through a delayed retry, the dead-letter queue and a replay (envelopeHeaders ${form})`, async () => {
      const transport = await createRabbitMqTransport({ url: RABBITMQ_URL, namespace, envelopeHeaders: form });
      transports.push(transport);
      const endpoint = uniqueName(`forms-${form}`);
      const type = uniqueName('Formed');
      const message = testMessage(type, json({ form }), {
        [HeaderNames.causationid]: 'cause-1',
        [HeaderNames.traceparent]: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        [HeaderNames.tracestate]: 'vendor=1',
        'x-user': 'kept ✓',
        'ce-note': 'n'.repeat(300),
      });
      const received: Headers[] = [];
      const subscription = await transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 1 }, async (d) => {
        received.push(d.headers);
        if (d.attempt === 1) await d.retry(20, { reason: ErrorCodes.HANDLER_FAILED, errorMessage: 'again' });
        else
          await d.deadLetter({
            reason: ErrorCodes.HANDLER_FAILED,
            errorMessage: 'parked',
            attempts: d.attempt,
            firstFailureAt: new Date(),
            lastFailureAt: new Date(),
          });
      });
      await transport.publish(message);
      const letter = (await waitForLetters(transport, endpoint, 1))[0] as DeadLetter;
      expect(received).toEqual([message.headers, message.headers]);
      expect(letter.headers).toEqual(message.headers);
      expect(letter.messageId).toBe(message.headers[HeaderNames.id]);
      expect(letter.type).toBe(type);
      await subscription.close();

      // What other AMQP clients (and Mailroom versions before the compact form) see on the wire.
      const admin = await connect(RABBITMQ_URL);
      try {
        const channel = await admin.createConfirmChannel();
        await transport.publish(testMessage(type, json({ raw: true }), {}, endpoint));
        let got: Awaited<ReturnType<typeof channel.get>> = false;
        while (got === false) got = await channel.get(transport.queueOf(endpoint), { noAck: true });
        expect(got.properties.messageId).toMatch(/./);
        expect(got.properties.type).toBe(type);
        if (form === 'full') expect(Object.keys(got.properties.headers ?? {})).toEqual(expect.arrayContaining(Object.values(HeaderNames).slice(0, 8)));
        else expect(got.properties.headers?.['x-mailroom-envelope']).toMatch(/^1 1\.0 1 \d{4}-/);
      } finally {
        await admin.close();
      }

      const replayed: Headers[] = [];
      await transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 1 }, async (d) => {
        replayed.push(d.headers);
        await d.ack();
      });
      await transport.deadLetters.replay(letter.id);
      await waitUntil(() => replayed.length === 1, 10_000);
      expect(replayed[0]).toEqual(message.headers);
    });
  }

  it('lists a message RabbitMQ dead-lettered itself (another client rejected it), and replays it', async () => {
    const transport = await open();
    const endpoint = uniqueName('rejected');
    const type = uniqueName('Rejected');
    const subscription = await transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 1 }, (d) => d.ack());
    await subscription.close();
    const message = testMessage(type, json({ rejected: true }), { 'x-extra': 'kept ✓' });
    await transport.publish(message);

    await rejectWithAnotherClient(transport.queueOf(endpoint));
    const letters = await waitForLetters(transport, endpoint, 1);
    const letter = letters[0] as DeadLetter;
    expect(letter.reason).toBe(RabbitMqErrorCodes.BROKER_DEAD_LETTERED);
    expect(letter.errorMessage).toContain('rejected');
    expect(letter.messageId).toBe(message.headers[HeaderNames.id]);
    expect(letter.headers).toEqual(message.headers);
    expect((await transport.deadLetters.get(letter.id)).id).toBe(letter.id);

    const received: Headers[] = [];
    await transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 1 }, async (d) => {
      received.push(d.headers);
      await d.ack();
    });
    await transport.deadLetters.replay(letter.id);
    await waitUntil(() => received.length === 1, 10_000);
    expect(received[0]).toEqual(message.headers);
    expect(await transport.deadLetters.list({ endpoint })).toEqual([]);
  });

  it('counts the redeliveries of a classic queue and parks the message once past maxDeliveries', async () => {
    const transport = await createRabbitMqTransport({ url: RABBITMQ_URL, namespace, queueType: 'classic' });
    transports.push(transport);
    const endpoint = uniqueName('classic-crash');
    const type = uniqueName('Crashing');
    const options = { endpoint, events: [], commands: [type], concurrency: 1, maxDeliveries: 2 };
    const message = testMessage(type, json({ crash: true }), {}, endpoint);
    await transport.publish(message);
    const attempts: number[] = [];
    for (let round = 0; round < 2; round++) {
      const doomed = await createRabbitMqTransport({ url: RABBITMQ_URL, namespace, queueType: 'classic' });
      const before = attempts.length;
      await doomed.subscribe(options, (delivery) => {
        attempts.push(delivery.attempt); // never settled: the consumer "dies" with it
      });
      await waitUntil(() => attempts.length > before, 10_000);
      await doomed.close();
    }
    const survivor = await createRabbitMqTransport({ url: RABBITMQ_URL, namespace, queueType: 'classic' });
    transports.push(survivor);
    const late: number[] = [];
    await survivor.subscribe(options, async (delivery) => {
      late.push(delivery.attempt);
      await delivery.ack();
    });
    const [letter] = await waitForLetters(survivor, endpoint, 1);
    expect(attempts).toEqual([1, 2]);
    expect(late).toEqual([]);
    expect(letter?.reason).toBe(ErrorCodes.TRANSPORT_DELIVERY_LIMIT);
    expect(letter?.attempts).toBe(3);
    expect(letter?.headers).toEqual(message.headers);
  });

  it('lets RabbitMQ itself dead-letter what consumers keep returning to a quorum queue (x-delivery-limit), with the delivery-limit reason', async () => {
    const transport = await createRabbitMqTransport({ url: RABBITMQ_URL, namespace, deliveryLimit: 2 });
    transports.push(transport);
    const endpoint = uniqueName('broker-limit');
    const type = uniqueName('Returned');
    const subscription = await transport.subscribe({ endpoint, events: [], commands: [type], concurrency: 1 }, (d) => d.ack());
    await subscription.close();
    const message = testMessage(type, json({ returned: true }), {}, endpoint);
    await transport.publish(message);
    // Another client takes it and returns it, again and again, as consumers that die would.
    const admin = await connect(RABBITMQ_URL);
    try {
      const channel = await admin.createChannel();
      for (let returns = 0; returns < 10; returns++) {
        const got = await channel.get(transport.queueOf(endpoint));
        if (got === false) break;
        channel.nack(got, false, true);
      }
      await channel.close();
    } finally {
      await admin.close();
    }
    const [letter] = await waitForLetters(transport, endpoint, 1);
    expect(letter?.reason).toBe(ErrorCodes.TRANSPORT_DELIVERY_LIMIT);
    expect(letter?.errorMessage).toContain('delivery_limit');
    expect(letter?.headers).toEqual(message.headers);
  });

  it('keeps working with a quorum queue declared without a delivery limit (by an earlier version)', async () => {
    const endpoint = uniqueName('older-queue');
    const type = uniqueName('Older');
    const admin = await connect(RABBITMQ_URL);
    try {
      const channel = await admin.createChannel();
      await channel.assertQueue(endpoint, {
        durable: true,
        arguments: { 'x-queue-type': 'quorum', 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': `${namespace}.error` },
      });
      await channel.close();
    } finally {
      await admin.close();
    }
    const transport = await open();
    const got: string[] = [];
    await transport.subscribe({ endpoint, events: [], commands: [type], concurrency: 1 }, async (d) => {
      got.push(d.headers[HeaderNames.id] as string);
      await d.ack();
    });
    const message = testMessage(type, json({ old: true }), {}, endpoint);
    await transport.publish(message);
    await waitUntil(() => got.length === 1, 10_000);
    expect(got).toEqual([message.headers[HeaderNames.id]]);
  });

  it('refuses to replay a dead letter that names no endpoint queue, and keeps it', async () => {
    const transport = await open();
    await transport.deadLetters.list(); // declares the error queue
    const foreignId = uniqueName('foreign');
    const brokerId = uniqueName('no-first-death-queue');
    const admin = await connect(RABBITMQ_URL);
    try {
      const channel = await admin.createConfirmChannel();
      // a foreign producer's message, and one that says RabbitMQ dead-lettered it but not from which queue
      channel.sendToQueue(`${namespace}.error`, Buffer.from('{"foreign":true}'), { persistent: true, headers: { 'ce-id': foreignId } });
      channel.sendToQueue(`${namespace}.error`, Buffer.from('{"broker":true}'), {
        persistent: true,
        headers: { 'ce-id': brokerId, 'x-first-death-reason': 'rejected', 'x-death': [{ reason: 'rejected', count: 1 }] },
      });
      await channel.waitForConfirms();
      await channel.close();
    } finally {
      await admin.close();
    }
    const letters = (await transport.deadLetters.list()).filter((l) => l.messageId === foreignId || l.messageId === brokerId);
    expect(letters.map((l) => l.endpoint)).toEqual(['', '']);
    for (const letter of letters) {
      await expect(transport.deadLetters.replay(letter.id)).rejects.toSatisfy(
        (e) => isMailroomError(e, RabbitMqErrorCodes.DEAD_LETTER_NO_ENDPOINT) && (e as Error).message.includes('no known endpoint'),
      );
      expect((await transport.deadLetters.get(letter.id)).messageId).toBe(letter.messageId);
    }
    expect(await transport.deadLetters.purge({ ids: letters.map((l) => l.id) })).toBe(2);
  });

  it('keeps what RabbitMQ dead-letters before anything else used the error queue (subscribing declares it)', async () => {
    const transport = await createRabbitMqTransport({ url: RABBITMQ_URL, namespace: freshNamespace });
    transports.push(transport);
    const endpoint = uniqueName('first-reject');
    const type = uniqueName('FirstReject');
    const subscription = await transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 1 }, (d) => d.ack());
    await subscription.close();
    await transport.publish(testMessage(type, json({ rejected: true })));

    await rejectWithAnotherClient(transport.queueOf(endpoint));
    const letters = await waitForLetters(transport, endpoint, 1);
    expect(letters[0]?.reason).toBe(RabbitMqErrorCodes.BROKER_DEAD_LETTERED);
  });
});
