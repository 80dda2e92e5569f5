import type { Telemetry } from '@mailroom/core';
import { createSqliteTransport } from '@mailroom/sqlite';
import type { MessagingContender } from '../messaging-contender.js';
import { mailroomEndpoint } from './mailroom-endpoint.js';

/** Settings of the Mailroom SQLite transport contender. */
export interface MailroomSqliteOptions {
  readonly name: string;
  /** Its own broker file. */
  readonly path: string;
  readonly endpoint: string;
  /** Endpoint concurrency: the most deliveries claimed and unsettled at once. */
  readonly prefetch: number;
  /** The endpoints' telemetry (default: the global OpenTelemetry providers; `false`: off). */
  readonly telemetry?: Telemetry | false;
}

/** Mailroom on its embedded SQLite transport (WAL, `synchronous: 'normal'`, the defaults), through an endpoint. */
export function mailroomSqlite(options: MailroomSqliteOptions): MessagingContender {
  return mailroomEndpoint({ ...options, openTransport: () => createSqliteTransport({ path: options.path, synchronous: 'normal' }) });
}
