/**
 * The attribute names Mailroom's spans and metrics use: the OpenTelemetry messaging semantic
 * conventions (development status, checked against semantic-conventions v1.44) and Mailroom's own,
 * under `mailroom.`. Values are plain strings so the library needs only `@opentelemetry/api`.
 */
export const MessagingAttributes = {
  system: 'messaging.system',
  destinationName: 'messaging.destination.name',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  messageId: 'messaging.message.id',
  conversationId: 'messaging.message.conversation_id',
  bodySize: 'messaging.message.body.size',
  consumerGroup: 'messaging.consumer.group.name',
  errorType: 'error.type',
  /** The delivery attempt, 1 for the first delivery (the conventions define it only per system, e.g. `messaging.gcp_pubsub.message.delivery_attempt`). */
  deliveryAttempt: 'mailroom.delivery.attempt',
  /** The contract type (for commands the destination is the owner's queue, so the type is told apart). */
  messageType: 'mailroom.message.type',
  /** What happened to a processed message: `ack`, `retry`, `dead_letter` or `duplicate`. */
  outcome: 'mailroom.outcome',
  /** The endpoint whose queue, outbox or relay a metric describes. */
  endpoint: 'mailroom.endpoint',
  retryDelayMs: 'mailroom.retry.delay_ms',
} as const;

/** The span events Mailroom adds to a process span. */
export const MessagingEvents = {
  /** The handler failed and the message goes back to the queue (attributes: error.type, delay, attempt). */
  retry: 'mailroom.retry',
  /** The message moved to the dead-letter queue (attributes: error.type = the reason code, attempt). */
  deadLetter: 'mailroom.dead_letter',
  /** The inbox had recorded this message id already: the handler was skipped. */
  duplicate: 'mailroom.inbox.duplicate',
} as const;

/** The metric names Mailroom records (semantic-convention names where the conventions define one). */
export const MessagingMetrics = {
  processDuration: 'messaging.process.duration',
  consumedMessages: 'messaging.client.consumed.messages',
  sentMessages: 'messaging.client.sent.messages',
  retries: 'mailroom.messages.retried',
  deadLetters: 'mailroom.messages.dead_lettered',
  inboxDuplicates: 'mailroom.inbox.duplicates',
  queueDepth: 'mailroom.queue.depth',
  queueOldestAge: 'mailroom.queue.oldest_message.age',
  queueDeadLetters: 'mailroom.queue.dead_letters',
  outboxBacklog: 'mailroom.outbox.backlog',
  outboxOldestAge: 'mailroom.outbox.oldest_message.age',
  outboxLag: 'mailroom.outbox.lag',
} as const;

/** The bucket boundaries the conventions advise for messaging durations, in seconds. */
export const DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
