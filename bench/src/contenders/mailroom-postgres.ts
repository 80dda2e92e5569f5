import { createEndpoint, type Endpoint } from '@mailroom/core';
import { createPostgresTransport, type PostgresTransport } from '@mailroom/postgres';
import { BenchEvent, type BenchMessage } from '../bench-message.js';
import type { MessagingContender } from '../messaging-contender.js';
import { createBenchDatabase, dropBenchDatabase } from './postgres-server.js';

/** Settings of the Mailroom PostgreSQL contender. */
export interface MailroomPostgresOptions {
  readonly name: string;
  /** The database of this run (created on start, dropped on stop). */
  readonly database: string;
  readonly endpoint: string;
  /** Endpoint concurrency: the most deliveries with handlers at once (each claim leases up to the free slots). */
  readonly prefetch: number;
  /** Connections of the transport's pool. */
  readonly poolSize: number;
}

/** Mailroom on the PostgreSQL transport with its defaults, used through an endpoint (publish and handler validate the contract). */
export function mailroomPostgres(options: MailroomPostgresOptions): MessagingContender {
  let transport: PostgresTransport | undefined;
  let endpoint: Endpoint | undefined;
  return {
    name: options.name,
    async start(deliver) {
      const connectionString = await createBenchDatabase(options.database);
      transport = await createPostgresTransport({ connectionString, poolSize: options.poolSize });
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
      await transport.close();
      transport = undefined;
      await dropBenchDatabase(options.database);
    },
  };
}
