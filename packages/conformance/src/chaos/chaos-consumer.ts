/**
 * A consumer process of a total-queue check: subscribes the endpoint to the event type and, for
 * each delivery, reports its id to the parent, waits until the report is written, then acks. A
 * message it handled and was killed before acking comes again: the parent counts a duplicate.
 */
import { HeaderNames } from '@mailroom/core';
import { childConfig, connectChild, idBatcher, send } from './chaos-child.js';

const config = childConfig();
const transport = await connectChild(config);
const handled = idBatcher('handled');
await transport.subscribe({ endpoint: config.endpoint, events: [config.type], commands: [], concurrency: config.concurrency ?? 32 }, async (delivery) => {
  await handled(delivery.headers[HeaderNames.id] as string);
  await delivery.ack().catch(() => undefined); // a lost ack means a redelivery, counted as a duplicate
});
await send({ kind: 'ready' });
process.on('disconnect', () => {
  void transport.close().finally(() => process.exit(0));
});
