import { createEndpoint, type Endpoint, type Telemetry, type Transport } from '@mailroom/core';
import { createSqliteTransport } from '@mailroom/sqlite';
import { BenchEvent, type BenchMessage } from '../bench-message.js';
import type { MessagingContender } from '../messaging-contender.js';

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
  let transport: Transport | undefined;
  let endpoint: Endpoint | undefined;
  return {
    name: options.name,
    async start(deliver) {
      transport = createSqliteTransport({ path: options.path, synchronous: 'normal' });
      endpoint = createEndpoint({
        name: options.endpoint,
        transport,
        concurrency: options.prefetch,
        ...(options.telemetry !== undefined && { telemetry: options.telemetry }),
      });
      endpoint.on(BenchEvent, (message) => deliver(message as BenchMessage));
      await endpoint.start();
    },
    async publish(message) {
      await (endpoint as Endpoint).publish(BenchEvent, message);
    },
    async stop() {
      await endpoint?.stop({ timeoutMs: 2000 });
      await transport?.close();
    },
  };
}
