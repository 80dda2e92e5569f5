/** `@mailroom/nats/testing`: what the conformance suite and benchmarks need to reach JetStream directly. */
export { DEFAULT_MAX_PAYLOAD, natsRawAccess } from './nats-raw-access.js';
