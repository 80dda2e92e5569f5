/**
 * `@mailroom/conformance`: the suites every transport, outbox store and inbox store must pass.
 * Call them from a vitest file: `describeTransport({ name: 'my-broker', connect })`.
 */
export { createScope, type Scope, sleep, uniqueName, waitUntil } from './helpers.js';
export { describeInboxStore } from './inbox-suite.js';
export { describeOutboxStore, numberSchema, type StoreFixture, type StoreSet, type StoreSuiteOptions, testEvent } from './outbox-suite.js';
export { type ServiceRequirement, Services, serviceAvailable, toolAvailable } from './services.js';
export { startProxy, type TcpProxy } from './tcp-proxy.js';
export { describeTransport, type TransportSuiteOptions, testMessage } from './transport-suite.js';
