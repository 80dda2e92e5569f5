/**
 * One consumer process of the restart test: consumes an endpoint's queue and reports to its parent
 * (over IPC) every message id it handled, and the transport's connection events with their times.
 *
 *   node --conditions=source --import tsx restart-consumer.ts <url> <namespace> <endpoint> <type>
 */
import { HeaderNames, type Logger } from '@mailroom/core';
import { createRabbitMqTransport } from '../src/index.js';

const [url, namespace, endpoint, type] = process.argv.slice(2) as [string, string, string, string];
const send = (message: unknown) => process.send?.(message);

/** Forwards the transport's connection events to the parent; drops everything else. */
function reportingLogger(): Logger {
  const logger: Logger = {
    trace: () => undefined,
    debug: () => undefined,
    info: (fields) => report(fields),
    warn: (fields) => report(fields),
    error: (fields) => report(fields),
    child: () => logger,
  };
  return logger;
}

function report(fields: object): void {
  const { event, reason, error } = fields as { event?: string; reason?: string; error?: string };
  if (event) send({ kind: 'event', event, at: Date.now(), detail: reason ?? error });
}

let handled: string[] = [];
const flush = () => {
  if (handled.length === 0) return;
  send({ kind: 'handled', ids: handled, at: Date.now() });
  handled = [];
};
setInterval(flush, 50);

const transport = await createRabbitMqTransport({ url, namespace, logger: reportingLogger() });
await transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 32 }, async (delivery) => {
  handled.push(delivery.headers[HeaderNames.id] as string);
  await delivery.ack().catch(() => undefined); // a lost ack means a redelivery: counted as a duplicate
});
send({ kind: 'ready' });
process.on('disconnect', () => {
  flush();
  void transport.close().finally(() => process.exit(0));
});
