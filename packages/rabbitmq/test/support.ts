import { uniqueName } from '@mailroom/conformance';
import type { Logger } from '@mailroom/core';
import { connect } from 'amqplib';
import { DELAY_LEVELS, topologyNames } from '../src/index.js';

/** The broker the tests use; `MAILROOM_RABBITMQ_URL` overrides it. */
export const RABBITMQ_URL = process.env.MAILROOM_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** A namespace of its own for one test file, so its error queue and registry hold only its own messages. */
export function testNamespace(prefix: string): string {
  return uniqueName(`mailroom-test-${prefix}`);
}

/**
 * Deletes everything a test run declared in `namespace`: the endpoint queues listed in its
 * registry (plus `extraQueues`), its error queue, registry, locks, delay levels and exchanges.
 */
export async function deleteNamespace(namespace: string, extraQueues: readonly string[] = []): Promise<void> {
  const names = topologyNames(namespace);
  const connection = await connect(RABBITMQ_URL);
  try {
    const queues = new Set(extraQueues);
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    try {
      await channel.checkQueue(names.registry);
      for (;;) {
        const message = await channel.get(names.registry, { noAck: true });
        if (message === false) break;
        const record = JSON.parse(message.content.toString('utf8')) as { queue?: string };
        if (record.queue) queues.add(record.queue);
      }
    } catch {
      // no registry: nothing subscribed
    }
    for (const queue of [...queues, names.errorQueue, names.registry, names.lock(names.errorQueue), names.lock(names.registry)]) {
      await withChannel(connection, (ch) => ch.deleteQueue(queue));
    }
    for (let level = 0; level < DELAY_LEVELS; level++) {
      await withChannel(connection, (ch) => ch.deleteQueue(names.delayLevel(level)));
      await withChannel(connection, (ch) => ch.deleteExchange(names.delayLevel(level)));
    }
    for (const exchange of [names.events, names.delayDeliver]) await withChannel(connection, (ch) => ch.deleteExchange(exchange));
  } finally {
    await connection.close().catch(() => undefined);
  }
}

async function withChannel(
  connection: Awaited<ReturnType<typeof connect>>,
  work: (channel: Awaited<ReturnType<typeof connection.createChannel>>) => Promise<unknown>,
) {
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  try {
    await work(channel);
  } catch {
    // already gone
  } finally {
    await channel.close().catch(() => undefined);
  }
}

/** One log call captured by {@link capturingLogger}. */
export interface LogLine {
  readonly level: string;
  readonly fields: object;
  readonly message: string | undefined;
  /** Epoch ms. */
  readonly at: number;
}

/** A logger that records every line (children included), to check what the transport logs. */
export function capturingLogger(lines: LogLine[] = []): Logger & { readonly lines: LogLine[] } {
  const make = (bindings: object): Logger & { readonly lines: LogLine[] } => {
    const log = (level: string) => (fields: object, message?: string) => lines.push({ level, fields: { ...bindings, ...fields }, message, at: Date.now() });
    return {
      lines,
      trace: log('trace'),
      debug: log('debug'),
      info: log('info'),
      warn: log('warn'),
      error: log('error'),
      child: (more) => make({ ...bindings, ...more }),
    };
  };
  return make({});
}
