/**
 * `@mailroom/core`: contracts, envelope and codec, endpoints with middleware and recoverability,
 * the in-memory transport, and the persistence seam for outbox and inbox stores.
 * The testing harness lives at `@mailroom/core/testing`.
 */
export { DEFAULT_MAX_MESSAGE_BYTES, decodeJson, encodeJson } from './codec.js';
export { type ConnectOptions, connectTransport, redactUrl, type TransportAdapterModule, transportScheme } from './connect.js';
export {
  type AnyContract,
  assertEndpointName,
  type CommandContract,
  type CommandOptions,
  type Contract,
  type ContractOptions,
  defineCommand,
  defineEvent,
  type EventContract,
  fromVersion,
  isContract,
  type MessageKind,
  type MessageOf,
  type PayloadOf,
  readIncoming,
  type UpcastStep,
  validateOutgoing,
} from './contract.js';
export { type DeadLetterGroup, DeadLetterGrouper, groupDeadLetterQueue, groupDeadLetters } from './dead-letter-groups.js';
export type { TransactionalOptions } from './endpoint.js';
export {
  type Bus,
  createEndpoint,
  Endpoint,
  type EndpointOptions,
  type Handler,
  type HandlerContext,
  type HandlerOptions,
  type PublishOptions,
  type SendOptions,
  type StopOptions,
} from './endpoint.js';
export { checkEndpointHealth, type EndpointHealth, type HealthCheck, type HealthOptions, type HealthSubject } from './endpoint-health.js';
export {
  createEnvelope,
  DEFAULT_MAX_HEADER_BYTES,
  type Envelope,
  type EnvelopeInit,
  envelopeToHeaders,
  HeaderNames,
  type Headers,
  JSON_CONTENT_TYPE,
  readEnvelope,
  TRACEPARENT_PATTERN,
} from './envelope.js';
export {
  type ErrorCode,
  ErrorCodes,
  errorMessage,
  isMailroomError,
  isUnrecoverable,
  MailroomError,
  type MailroomErrorOptions,
  UnrecoverableError,
} from './errors.js';
export {
  describeFailure,
  type FailureDescription,
  type FingerprintSource,
  failureFingerprint,
  normalizeErrorMessage,
  normalizeFramePath,
  topStackFrame,
} from './failure-fingerprint.js';
export { type HeartbeatData, MailroomHeartbeat } from './heartbeat.js';
export { type HeartbeatInstance, HeartbeatMonitor, type HeartbeatMonitorOptions, type InstanceStatus } from './heartbeat-monitor.js';
export { DEFAULT_HEARTBEAT_INTERVAL_MS, type HeartbeatOptions, MIN_HEARTBEAT_INTERVAL_MS } from './heartbeat-sender.js';
export { createDefaultLogger, type Logger } from './logger.js';
export { createMemoryTransport, MEMORY_MAX_SCHEDULE_DELAY_MS, MemoryBroker, type MemoryTransportOptions } from './memory-transport.js';
export { compose, type IncomingContext, type IncomingMiddleware, type OutgoingContext, type OutgoingMiddleware } from './middleware.js';
export type {
  AppendOutcome,
  NewOperation,
  OperationClassifier,
  OperationEntry,
  OperationEntryKind,
  OperationEvent,
  OperationHeader,
  OperationStatus,
  OperationStep,
  OperationStore,
  StoredOperation,
} from './operation-store.js';
export type {
  InboxStore,
  MessageDatabase,
  OutboxClaim,
  OutboxCounts,
  OutboxFailure,
  OutboxMessage,
  OutboxOutcome,
  OutboxRecord,
  OutboxStore,
} from './outbox.js';
export type { OutboxHealth, Persistence, PersistenceContext } from './persistence.js';
export {
  backoffDelay,
  defaultRecoverabilityConfig,
  defaultRecoverabilityPolicy,
  type RecoverabilityAction,
  type RecoverabilityConfig,
  type RecoverabilityContext,
  type RecoverabilityPolicy,
  resolveRecoverabilityConfig,
} from './recoverability.js';
export {
  createRelay,
  type Disposable,
  Relay,
  type RelayBatchEvent,
  type RelayErrorEvent,
  type RelayOptions,
  type RelayPublishedEvent,
  type RelaySettings,
  type RelayStats,
  type RelayTuning,
  resolveRelaySettings,
} from './relay.js';
export {
  defineSaga,
  type NotStartedAction,
  type Saga,
  type SagaCompensation,
  type SagaContext,
  type SagaDefinition,
  type SagaResult,
  type SagaTimeout,
  type TimeoutWhen,
} from './saga.js';
export { type SagaOptions, type SagaTimeoutPayload, sagaTimeoutType } from './saga-endpoint.js';
export {
  type CompensationStep,
  createMemorySagaStore,
  decodeSagaData,
  encodeSagaData,
  type SagaChange,
  type SagaData,
  type SagaStore,
  type StoredSaga,
  sagaConflict,
} from './saga-store.js';
export type { Clock, ScheduleOptions } from './schedule.js';
export { createStorePersistence, StorePersistence, type StorePersistenceOptions } from './store-persistence.js';
export { defineSystem, type System, type SystemDefinition, type SystemEndpoint, type SystemEndpointDefinition } from './system.js';
export { DURATION_BUCKETS_S, MessagingAttributes, MessagingEvents, MessagingMetrics } from './telemetry/messaging-attributes.js';
export {
  createTelemetry,
  defaultTelemetry,
  INSTRUMENTATION_NAME,
  INSTRUMENTATION_VERSION,
  type MessagingInstruments,
  type Propagator,
  type StopObserving,
  Telemetry,
  type TelemetryOptions,
} from './telemetry/telemetry.js';
export {
  extractCreationContext,
  formatTraceparent,
  headerGetter,
  headerSetter,
  injectTraceHeaders,
  parseTraceparent,
  type TraceHeaders,
} from './telemetry/trace-headers.js';
export type {
  DeadLetter,
  DeadLetterFilter,
  DeadLetterOrder,
  DeadLetterPage,
  DeadLetterQueue,
  DeadLetterRequest,
  Delivery,
  DeliveryHandler,
  FailureInfo,
  MessageTransport,
  OutgoingMessage,
  QueueInfo,
  Route,
  SubscribeOptions,
  Subscription,
  Transport,
  TransportAdmin,
  TransportCapabilities,
  TransportHealth,
} from './transport.js';
export { DEFAULT_DEAD_LETTER_PAGE_SIZE, DEFAULT_MAX_DELIVERIES, MAX_DEAD_LETTER_PAGE_SIZE } from './transport.js';
export { hasTransportAdmin, transportAdmin } from './transport-admin.js';
export { type ValidationIssue, validateWith } from './validate.js';
