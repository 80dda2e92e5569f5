/**
 * `@mailroom/nats`: the NATS JetStream transport. `createNatsTransport(options)` connects (or uses
 * your connection); `createTransportFromUrl` is what `connectTransport('nats://...')` loads.
 * Streams, subjects and consumers are described in docs/nats.md.
 */
export { NatsErrorCodes } from './errors.js';
export { decodeHeaders, encodeHeaders } from './header-codec.js';
export { createNatsNames, type NameParts, type NatsNames } from './nats-names.js';
export type { NatsStreamSettings, NatsTransportOptions } from './nats-options.js';
export { createNatsTransport, NATS_DELAY_PRECISION_MS, type NatsTransport } from './nats-transport.js';
export { createTransportFromUrl, type ParsedNatsUrl, parseNatsUrl } from './transport-url.js';
