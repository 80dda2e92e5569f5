/**
 * `@mailroom/conformance`: the suites every transport, outbox, inbox, saga and operation store must pass.
 * Call them from a vitest file: `describeTransport({ name: 'my-broker', connect })`.
 */
export { type ChildConnection, type ChildReport, type ChildWork, runChildTransport } from './child-transport.js';
export { createScope, numberSchema, pollFor, type Scope, sleep, uniqueName, waitUntil } from './helpers.js';
export {
  HOSTILE_MAX_MESSAGE_BYTES,
  type HostileCase,
  hostileCorpus,
  type RawAccess,
  type RawInjector,
  type RawMessage,
} from './hostile-suite.js';
export { describeInboxStore } from './inbox-suite.js';
export { describeOperationStore, type OperationStoreFixture, type OperationStoreSuiteOptions } from './operation-store-suite.js';
export { describeOutboxStore, type StoreFixture, type StoreSet, type StoreSuiteOptions, testEvent } from './outbox-suite.js';
export { describePersistence, type PersistenceFixture, type PersistenceSuiteOptions } from './persistence-suite.js';
export {
  type ConformanceSaga,
  type ConformanceSagaNames,
  type ConformanceSagaState,
  conformanceSaga,
  conformanceSagaNames,
  describeSagaStore,
  runSagaChild,
  type SagaFixture,
  type SagaSuiteOptions,
} from './saga-suite.js';
export { describeScheduling, type ScheduleSuiteOptions } from './schedule-suite.js';
export { type ServiceRequirement, Services, serviceAvailable, toolAvailable } from './services.js';
export { startProxy, type TcpProxy } from './tcp-proxy.js';
export { describeTransport, type TransportSuiteOptions, testMessage } from './transport-suite.js';
