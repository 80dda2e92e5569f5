import { createNatsTransport } from '@mailroom/nats';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { MessagingContender } from '../messaging-contender.js';
import { mailroomEndpoint } from './mailroom-endpoint.js';
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
  return mailroomEndpoint({
    ...options,
    openTransport: () => createNatsTransport({ servers: NATS_SERVERS, prefix: options.prefix }),
    async cleanUp() {
      const connection = await connect({ servers: NATS_SERVERS });
      try {
        await deleteStreams(await jetstreamManager(connection), [options.prefix.toUpperCase(), `KV_${options.prefix.toUpperCase()}`]);
      } finally {
        await connection.close();
      }
    },
  });
}
