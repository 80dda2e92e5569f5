import { createPostgresTransport } from '@mailroom/postgres';
import type { MessagingContender } from '../messaging-contender.js';
import { mailroomEndpoint } from './mailroom-endpoint.js';
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
  return mailroomEndpoint({
    ...options,
    openTransport: async () => createPostgresTransport({ connectionString: await createBenchDatabase(options.database), poolSize: options.poolSize }),
    cleanUp: () => dropBenchDatabase(options.database),
  });
}
