import type { MessageTransport, Transport } from '../src/transport.js';

/**
 * The message-moving part of a real transport alone (no `deadLetters`, no `queues()`): a transport
 * that leaves out the optional management part, for tests that endpoints do not need it.
 */
export function messageOnly(inner: Transport): MessageTransport {
  return {
    name: inner.name,
    capabilities: inner.capabilities,
    publish: (message) => inner.publish(message),
    subscribe: (options, handler) => inner.subscribe(options, handler),
    ...(inner.health && { health: inner.health.bind(inner) }),
    close: () => inner.close(),
  };
}
