import { setTimeout as sleep } from 'node:timers/promises';
import { createEndpoint } from '@mailroom/core';
import { createRabbitMqTransport } from '@mailroom/rabbitmq';
import { BenchWork } from './bench-message.js';
import { RABBITMQ_URL } from './contenders/amqplib-client.js';

/**
 * One worker process of the scaling scenario (forked by it): an endpoint on RabbitMQ whose handler
 * waits 5 ms. Sends `{ ready: true }` once consuming, then `{ handled }` every 10 ms while the
 * count changes; stops and exits when the parent disconnects.
 */
async function main(): Promise<void> {
  const [namespace, endpointName, concurrency, handlerMs] = process.argv.slice(2);
  const transport = await createRabbitMqTransport({ url: RABBITMQ_URL, namespace: namespace as string, queueType: 'classic' });
  const endpoint = createEndpoint({ name: endpointName as string, transport, concurrency: Number(concurrency) });
  let handled = 0;
  endpoint.on(BenchWork, async () => {
    await sleep(Number(handlerMs));
    handled += 1;
  });
  await endpoint.start();
  let reported = -1;
  const timer = setInterval(() => {
    if (handled !== reported) {
      reported = handled;
      process.send?.({ handled });
    }
  }, 10);
  process.send?.({ ready: true });
  process.on('disconnect', () => {
    clearInterval(timer);
    void endpoint
      .stop({ timeoutMs: 2000 })
      .then(() => transport.close())
      .finally(() => process.exit(0));
  });
}

void main();
