import { randomBytes } from 'node:crypto';
import { Services, serviceAvailable, startProxy, type TcpProxy, testMessage, uniqueName, waitUntil } from '@mailroom/conformance';
import { type Delivery, ErrorCodes, HeaderNames, isMailroomError, type Transport } from '@mailroom/core';
import { connect } from 'amqplib';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type AmqpConfirmChannel, type AmqpConnection, createRabbitMqTransport, type RabbitMqTransportOptions } from '../src/index.js';
import { holdSharedBrokerLock } from './broker-lock.js';
import { capturingLogger, deleteNamespace, testNamespace } from './support.js';

const available = await serviceAvailable(Services.rabbitmq);
const namespace = testNamespace('faults');
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

describe.runIf(available)('rabbitmq transport under network faults', () => {
  holdSharedBrokerLock();
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });
  afterAll(() => deleteNamespace(namespace));

  async function throughProxy(options: Partial<RabbitMqTransportOptions> = {}): Promise<{ proxy: TcpProxy; transport: Transport }> {
    const proxy = await startProxy();
    cleanups.push(() => proxy.close());
    const transport = await createRabbitMqTransport({
      url: `amqp://guest:guest@127.0.0.1:${proxy.port}`,
      namespace,
      reconnectInitialDelayMs: 50,
      reconnectMaxDelayMs: 400,
      ...options,
    });
    cleanups.push(() => transport.close());
    return { proxy, transport };
  }

  it('consumes and publishes again after the connection is cut, losing nothing', async () => {
    const logger = capturingLogger();
    const { proxy, transport } = await throughProxy({ logger });
    const endpoint = uniqueName('cut');
    const type = uniqueName('Cut');
    const got = new Set<string>();
    await transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 4 }, async (delivery) => {
      got.add(delivery.headers[HeaderNames.id] as string);
      await delivery.ack();
    });
    const before = Array.from({ length: 5 }, (_, i) => testMessage(type, json({ i })));
    for (const message of before) await transport.publish(message);
    await waitUntil(
      () => got.size === 5,
      10_000,
      () => `got ${got.size}/5`,
    );

    proxy.cut();
    const after = Array.from({ length: 5 }, (_, i) => testMessage(type, json({ i: i + 5 })));
    await Promise.all(after.map((message) => transport.publish(message)));
    await waitUntil(
      () => got.size === 10,
      15_000,
      () => `got ${got.size}/10 after the cut`,
    );
    expect([...got].sort()).toEqual([...before, ...after].map((m) => m.headers[HeaderNames.id]).sort());
    const events = logger.lines.map((line) => (line.fields as { event?: string }).event);
    expect(events).toContain('connection-lost');
    expect(events).toContain('reconnected');
    expect(events).toContain('consumer-resumed');
  });

  it('makes publish wait during an outage, then reject with MAILROOM_ERR_TRANSPORT_UNAVAILABLE, and recovers after', async () => {
    const { proxy, transport } = await throughProxy({ unavailableTimeoutMs: 600 });
    const endpoint = uniqueName('outage');
    const type = uniqueName('Outage');
    const got: string[] = [];
    await transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 1 }, async (d) => {
      got.push(d.headers[HeaderNames.id] as string);
      await d.ack();
    });
    proxy.refuse(true);
    proxy.cut();
    const started = performance.now();
    const error = await transport.publish(testMessage(type, json({ during: true }))).catch((e: unknown) => e);
    expect(isMailroomError(error, ErrorCodes.TRANSPORT_UNAVAILABLE), String(error)).toBe(true);
    expect(performance.now() - started).toBeGreaterThanOrEqual(590);
    expect((error as Error).message).not.toContain('guest:guest');

    proxy.refuse(false);
    const message = testMessage(type, json({ after: true }));
    const deadline = Date.now() + 10_000;
    while (
      !(await transport.publish(message).then(
        () => true,
        () => Date.now() > deadline,
      ))
    ) {
      // the first publishes after the outage may still time out while the connection comes back
    }
    await waitUntil(
      () => got.length === 1,
      10_000,
      () => 'the consumer did not come back',
    );
    expect(got).toEqual([message.headers[HeaderNames.id]]);
  });

  it('rejects with MAILROOM_ERR_TRANSPORT_CONFIRM_TIMEOUT when the confirm never comes', async () => {
    const { proxy, transport } = await throughProxy({ confirmTimeoutMs: 300 });
    const type = uniqueName('NoConfirm');
    await transport.publish(testMessage(type, json({ warm: true })));
    proxy.freeze();
    const started = performance.now();
    const error = await transport.publish(testMessage(type, json({ frozen: true }))).catch((e: unknown) => e);
    expect(isMailroomError(error, ErrorCodes.TRANSPORT_CONFIRM_TIMEOUT), String(error)).toBe(true);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    proxy.thaw();
    await transport.publish(testMessage(type, json({ thawed: true })));
  });

  it('stops handing messages to amqplib once publish() returns false, until drain', async () => {
    const proxy = await startProxy();
    cleanups.push(() => proxy.close());
    const amqp = await connect(`amqp://guest:guest@127.0.0.1:${proxy.port}`);
    cleanups.push(() => amqp.close());
    let writes = 0;
    let refused = 0;
    const spy = (channel: AmqpConfirmChannel): AmqpConfirmChannel =>
      new Proxy(channel, {
        get(target, property) {
          if (property === 'publish') {
            return (...args: Parameters<AmqpConfirmChannel['publish']>) => {
              writes += 1;
              const flowing = target.publish(...args);
              if (!flowing) refused += 1;
              return flowing;
            };
          }
          const value = Reflect.get(target, property, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    const connection: AmqpConnection = {
      createChannel: () => amqp.createChannel(),
      createConfirmChannel: async () => spy((await amqp.createConfirmChannel()) as unknown as AmqpConfirmChannel),
      close: () => amqp.close(),
      on: (event, listener) => amqp.on(event, listener),
      once: (event, listener) => amqp.once(event, listener),
      removeListener: (event, listener) => amqp.removeListener(event, listener),
    };
    const transport = await createRabbitMqTransport({ connection, namespace, maxUnconfirmed: 10_000 });
    cleanups.push(() => transport.close());
    const type = uniqueName('Pressure');
    await transport.publish(testMessage(type, json({ warm: true })));
    proxy.freeze();
    // The kernel's socket buffers fill first, then amqplib's channel buffer (1024 frames) before publish() returns false.
    const body = new Uint8Array(randomBytes(16 * 1024));
    const total = 2000;
    const publishing = Promise.allSettled(Array.from({ length: total }, () => transport.publish(testMessage(type, body))));
    await waitUntil(
      () => refused > 0,
      10_000,
      () => `writes ${writes}, none refused`,
    );
    const atRefusal = writes;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(writes, 'nothing more is written while amqplib asks to wait').toBe(atRefusal);
    expect(writes).toBeLessThan(total + 1);
    proxy.thaw();
    const outcomes = await publishing;
    expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
    expect(writes).toBe(total + 1);
  });

  it('never lets a settle on a cut channel reach amqplib, and redelivers the message', async () => {
    const { proxy, transport } = await throughProxy();
    const endpoint = uniqueName('cut-settle');
    const type = uniqueName('CutSettle');
    const deliveries: Delivery[] = [];
    await transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 1 }, (d) => {
      deliveries.push(d);
      if (deliveries.length > 1) return d.ack();
    });
    await transport.publish(testMessage(type, json({ n: 1 })));
    await waitUntil(() => deliveries.length === 1, 10_000);
    proxy.cut();
    await waitUntil(
      () => deliveries.length === 2,
      15_000,
      () => 'not redelivered after the cut',
    );
    await expect(deliveries[0]?.ack()).rejects.toSatisfy((e) => isMailroomError(e, ErrorCodes.TRANSPORT_SETTLED));
    expect(deliveries[1]?.attempt).toBeGreaterThanOrEqual(2);
    expect(deliveries[1]?.headers).toEqual(deliveries[0]?.headers);
  });
});
