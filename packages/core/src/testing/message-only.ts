import type { MessageTransport, Transport } from '../transport.js';

/**
 * The message-moving part of a real transport alone (no `deadLetters`, no `queues()`): a transport
 * that leaves out the optional management part, as a broker that cannot list what it dead-letters
 * would, for tests that endpoints and the conformance suite do not need it. Everything of
 * `MessageTransport` is passed through, `cancelScheduled` and `health` included.
 */
export function messageOnly(inner: Transport): MessageTransport {
  return {
    name: inner.name,
    capabilities: inner.capabilities,
    publish: (message) => inner.publish(message),
    subscribe: (options, handler) => inner.subscribe(options, handler),
    ...(inner.cancelScheduled && { cancelScheduled: inner.cancelScheduled.bind(inner) }),
    ...(inner.health && { health: inner.health.bind(inner) }),
    close: () => inner.close(),
  };
}
