import { createEndpoint, createMemoryTransport, type Endpoint, type Telemetry, type Transport } from '@mailroom/core';
import { BenchEvent, type BenchMessage } from '../bench-message.js';
import type { MessagingContender } from '../messaging-contender.js';

/** Mailroom on its in-memory transport through an endpoint: no I/O at all, so the library's own cost per message is all there is. */
export function mailroomMemory(options: { name: string; endpoint: string; prefetch: number; telemetry?: Telemetry | false }): MessagingContender {
  let transport: Transport | undefined;
  let endpoint: Endpoint | undefined;
  return {
    name: options.name,
    async start(deliver) {
      transport = createMemoryTransport();
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
