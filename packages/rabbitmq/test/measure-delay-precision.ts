/**
 * Measures how late delayed retries come back on the RabbitMQ transport: the figure behind
 * `capabilities.delayPrecisionMs` and docs/rabbitmq.md.
 *
 *   node --conditions=source --import tsx packages/rabbitmq/test/measure-delay-precision.ts [samples] [quorum|classic]
 *
 * Each sample is one message retried once with a random delay between 10 ms and 5 s; lateness is
 * the time from the `retry()` call to the redelivery, minus the delay. The delay levels are
 * declared before measuring (the first retry of a new level pays for declaring it).
 */
import { randomBytes } from 'node:crypto';
import { testMessage } from '@mailroom/conformance';
import { ErrorCodes, HeaderNames } from '@mailroom/core';
import { createRabbitMqTransport } from '../src/index.js';
import { deleteNamespace, RABBITMQ_URL } from './support.js';

const samples = Number(process.argv[2] ?? 200);
const queueType = (process.argv[3] ?? 'quorum') as 'quorum' | 'classic';
const namespace = `mailroom-measure-${randomBytes(4).toString('hex')}`;
const transport = await createRabbitMqTransport({ url: RABBITMQ_URL, namespace, queueType });
const endpoint = `measure-${randomBytes(4).toString('hex')}`;
const type = `Measure-${randomBytes(4).toString('hex')}`;
const retriedAt = new Map<string, { at: number; delay: number }>();
const lateness: number[] = [];

try {
  await transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 256 }, async (delivery) => {
    const id = delivery.headers[HeaderNames.id] as string;
    const retried = retriedAt.get(id);
    if (retried) {
      lateness.push(performance.now() - retried.at - retried.delay);
      await delivery.ack();
      return;
    }
    const delay = Number(delivery.headers['x-delay']);
    retriedAt.set(id, { at: performance.now(), delay });
    await delivery.retry(delay, { reason: ErrorCodes.HANDLER_FAILED, errorMessage: 'measure' });
  });
  // Warm up: a retry of 81.9 s declares every level a 5 s delay can use (it never comes back while measuring).
  await transport.publish(testMessage(type, new Uint8Array(0), { 'x-delay': String(8191 * 10), 'x-warm-up': 'yes' }));
  await new Promise((resolve) => setTimeout(resolve, 1500));
  for (let i = 0; i < samples; i++) {
    const delay = 10 + Math.floor(Math.random() * 4990);
    await transport.publish(testMessage(type, new Uint8Array(0), { 'x-delay': String(delay) }));
    await new Promise((resolve) => setTimeout(resolve, 5000 / samples));
  }
  const deadline = Date.now() + 15_000;
  while (lateness.length < samples && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  const sorted = [...lateness].sort((a, b) => a - b);
  const pick = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN);
  console.log(
    `${queueType} delay queues, ${sorted.length}/${samples} samples, delays 10-5000 ms: late by min ${Math.round(sorted[0] ?? Number.NaN)} ms, ` +
      `p50 ${pick(0.5)} ms, p90 ${pick(0.9)} ms, p99 ${pick(0.99)} ms, max ${Math.round(sorted.at(-1) ?? Number.NaN)} ms`,
  );
} finally {
  await transport.close();
  await deleteNamespace(namespace, [endpoint]);
}
