import { createEndpoint, type Endpoint, type Telemetry, type Transport } from '@mailroom/core';
import { BenchEvent, type BenchMessage } from '../bench-message.js';
import type { MessagingContender } from '../messaging-contender.js';

/** Settings of a Mailroom contender: an endpoint on a transport the caller opens. */
export interface MailroomEndpointOptions {
  readonly name: string;
  readonly endpoint: string;
  /** Endpoint concurrency: the most deliveries claimed and unsettled at once. */
  readonly prefetch: number;
  /** The endpoint's telemetry (default: the global OpenTelemetry providers; `false`: off). */
  readonly telemetry?: Telemetry | false;
  /** Opens the transport on start. */
  openTransport(): Transport | Promise<Transport>;
  /** Deletes what the run declared on the broker, after the transport is closed. */
  cleanUp?(): Promise<void>;
}

/**
 * Mailroom as a service uses it: `endpoint.publish(contract, data)` (validated, enveloped, stored
 * durably by the transport) and a handler registered with `endpoint.on`, settled after it returns.
 */
export function mailroomEndpoint(options: MailroomEndpointOptions): MessagingContender {
  let transport: Transport | undefined;
  let endpoint: Endpoint | undefined;
  return {
    name: options.name,
    async start(deliver) {
      transport = await options.openTransport();
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
      await options.cleanUp?.();
    },
  };
}
