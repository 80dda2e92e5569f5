import { createEndpoint, type Endpoint } from '@mailroom/core';
import { createNatsTransport, type NatsTransport } from '@mailroom/nats';
import { jetstreamManager } from '@nats-io/jetstream';
import { BenchEvent, type BenchMessage } from '../bench-message.js';
import type { MessagingContender } from '../messaging-contender.js';
import { deleteStreams, NATS_SERVERS } from './nats-server.js';

/** Settings of the Mailroom JetStream contender. */
export interface MailroomNatsOptions {
  readonly name: string;
  /** The transport prefix of this run (its streams are deleted on stop). */
  readonly prefix: string;
  readonly endpoint: string;
  /** Endpoint concurrency: the most deliveries with handlers at once (the subscription pulls up to twice that ahead). */
  readonly prefetch: number;
}

/** Mailroom on JetStream with the transport's defaults (file storage), used through an endpoint. */
export function mailroomNats(options: MailroomNatsOptions): MessagingContender {
  let transport: NatsTransport | undefined;
  let endpoint: Endpoint | undefined;
  return {
    name: options.name,
    async start(deliver) {
      transport = await createNatsTransport({ servers: NATS_SERVERS, prefix: options.prefix });
      endpoint = createEndpoint({ name: options.endpoint, transport, concurrency: options.prefetch });
      endpoint.on(BenchEvent, (message) => deliver(message as BenchMessage));
      await endpoint.start();
    },
    async publish(message) {
      await (endpoint as Endpoint).publish(BenchEvent, message);
    },
    async stop() {
      if (!transport) return;
      await endpoint?.stop({ timeoutMs: 2000 });
      const jsm = await jetstreamManager(transport.connection);
      await deleteStreams(jsm, [options.prefix.toUpperCase(), `KV_${options.prefix.toUpperCase()}`]);
      await transport.close();
      transport = undefined;
    },
  };
}
