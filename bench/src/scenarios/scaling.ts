import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createEndpoint } from '@mailroom/core';
import { createRabbitMqTransport } from '@mailroom/rabbitmq';
import { BenchWork, benchMessage } from '../bench-message.js';
import { RABBITMQ_URL } from '../contenders/amqplib-client.js';
import { deleteRabbitMqNamespace } from '../contenders/mailroom-rabbitmq.js';
import { rabbitMqVersions } from '../contenders/rabbitmq-versions.js';
import { interleave } from '../interleave.js';
import { runWindowed } from '../load-drivers.js';
import { Recorder } from '../recorder.js';
import type { Scenario } from '../scenario.js';
import { significant } from '../stats.js';
import { uniqueName } from '../unique-name.js';

const CONCURRENCY = 8;
const HANDLER_MS = 5;
const WORKERS = [1, 2, 4] as const;

interface Worker {
  child: ChildProcess;
  handled: number;
}

async function startWorkers(count: number, namespace: string, endpoint: string): Promise<Worker[]> {
  const script = fileURLToPath(new URL('../scaling-worker.js', import.meta.url));
  const workers = Array.from({ length: count }, () => {
    const child = fork(script, [namespace, endpoint, String(CONCURRENCY), String(HANDLER_MS)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const worker: Worker = { child, handled: 0 };
    child.on('message', (message: { handled?: number }) => {
      if (typeof message.handled === 'number') worker.handled = message.handled;
    });
    return worker;
  });
  await Promise.all(
    workers.map(async ({ child }) => {
      for (;;) {
        const [message] = (await once(child, 'message')) as [{ ready?: boolean }];
        if (message.ready) return;
      }
    }),
  );
  return workers;
}

async function stopWorkers(workers: Worker[]): Promise<void> {
  await Promise.all(
    workers.map(async ({ child }) => {
      const exited = once(child, 'exit');
      child.disconnect();
      await exited;
    }),
  );
}

/** Scenario 7: 1, 2 and 4 worker processes of one endpoint with a 5 ms handler. */
export const scalingScenario: Scenario = {
  name: 'scaling',
  title: 'Scaling: 1, 2, 4 worker processes of one endpoint',
  description:
    `Worker processes of one Mailroom endpoint (RabbitMQ, classic queue, concurrency ${CONCURRENCY} each) whose handler waits ${HANDLER_MS} ms. ` +
    'The workers start and subscribe first; then this process publishes the messages (128 awaiting their confirm) and the time runs from the first publish ' +
    'until the workers together handled them all. One worker can handle at most concurrency / 5 ms = 1,600 messages per second.',
  async run(context) {
    const recorder = new Recorder();
    const namespace = uniqueName('bench-scaling');
    const endpoint = `${namespace}-worker`;
    const count = context.size(6000, 300);
    const transport = await createRabbitMqTransport({ url: RABBITMQ_URL, namespace, queueType: 'classic' });
    const publisher = createEndpoint({ name: `${namespace}-publisher`, transport });
    await publisher.start();
    let seq = 0;
    const labels = WORKERS.map((n) => `${n} worker${n === 1 ? '' : 's'}`);
    try {
      await interleave(labels, context.rounds, context.warmup, async (label, measured) => {
        const n = WORKERS[labels.indexOf(label)] as number;
        const workers = await startWorkers(n, namespace, endpoint);
        try {
          const started = performance.now();
          await runWindowed(count, 128, () => publisher.publish(BenchWork, benchMessage(seq++)));
          const deadline = Date.now() + 120_000;
          while (workers.reduce((sum, w) => sum + w.handled, 0) < count) {
            if (Date.now() > deadline)
              throw new Error(`${label}: the workers handled only ${workers.reduce((s, w) => s + w.handled, 0)} of ${count} messages in 120 s`);
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
          const perSecond = count / ((performance.now() - started) / 1000);
          context.log(`${label}: ${Math.round(perSecond)} msg/s (${workers.map((w) => w.handled).join(' + ')})${measured ? '' : ' (warm-up)'}`);
          if (measured) recorder.add('5 ms handler', label, 'throughput', 'msg/s', 'higher', significant(perSecond));
        } finally {
          await stopWorkers(workers);
        }
      });
    } finally {
      await publisher.stop();
      await transport.close();
      await deleteRabbitMqNamespace(namespace, [endpoint]);
    }
    recorder.compare('5 ms handler', 'throughput', '2 workers', '1 worker');
    recorder.compare('5 ms handler', 'throughput', '4 workers', '1 worker');
    return {
      versions: await rabbitMqVersions(),
      settings: { count, concurrencyPerWorker: CONCURRENCY, handlerMs: HANDLER_MS, workers: WORKERS, queueType: 'classic', messageBytes: 1024 },
      recorder,
      notes: [],
    };
  },
};
