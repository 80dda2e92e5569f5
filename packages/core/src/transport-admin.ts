import type { MessageTransport, Transport, TransportAdmin } from './transport.js';

/**
 * The management part of a transport ({@link TransportAdmin}: `deadLetters` and `queues()`) when
 * it has one, else undefined. Never throws and does no I/O: it only looks at the object.
 */
export function transportAdmin(transport: MessageTransport): TransportAdmin | undefined {
  return hasTransportAdmin(transport) ? transport : undefined;
}

/** Whether a transport has its management part too, as a type guard. */
export function hasTransportAdmin(transport: MessageTransport): transport is Transport {
  const candidate = transport as Partial<TransportAdmin>;
  return typeof candidate.queues === 'function' && typeof candidate.deadLetters === 'object' && candidate.deadLetters !== null;
}
