import { ErrorCodes, MailroomError } from '@mailroom/core';
import { RabbitMqErrorCodes } from './errors.js';
import type { RabbitMqQueueType } from './options.js';

/** The resolution of delayed retries: a delay is rounded up to a multiple of this many milliseconds. */
export const DELAY_UNIT_MS = 10;
/** How many binary delay levels exist; level `i` holds a message for `DELAY_UNIT_MS × 2^i`. */
export const DELAY_LEVELS = 32;
/** The longest delay the levels can hold: `DELAY_UNIT_MS × (2^32 − 1)`, about 497 days. */
export const MAX_DELAY_MS = DELAY_UNIT_MS * (2 ** DELAY_LEVELS - 1);

/** The names of Mailroom's own exchanges and queues in one namespace. */
export interface TopologyNames {
  /** Topic exchange for events; routing key = event type. */
  readonly events: string;
  /** The one error queue holding every endpoint's dead letters. */
  readonly errorQueue: string;
  /** Queue listing the endpoints that subscribed, for `queues()`. */
  readonly registry: string;
  /** Topic exchange that hands delayed messages back to their endpoint queue. */
  readonly delayDeliver: string;
  /** The exchange and queue of delay level `level`. */
  delayLevel(level: number): string;
  /** The empty queue whose exclusive consumer is the lock for browsing `queue`. */
  lock(queue: string): string;
}

/** The names of the topology in `namespace`. */
export function topologyNames(namespace: string): TopologyNames {
  return {
    events: `${namespace}.events`,
    errorQueue: `${namespace}.error`,
    registry: `${namespace}.endpoints`,
    delayDeliver: `${namespace}.delay.deliver`,
    delayLevel: (level) => `${namespace}.delay.${String(level).padStart(2, '0')}`,
    lock: (queue) => `${queue}.lock`,
  };
}

/** Where a delayed message goes first and its routing key: the delay in binary units, most significant level first, then the queue. */
export interface DelayRoute {
  /** The highest level the message passes (its first exchange). */
  readonly topLevel: number;
  readonly routingKey: string;
  /** The delay actually applied: `delayMs` rounded up to a multiple of {@link DELAY_UNIT_MS}. */
  readonly appliedMs: number;
}

/**
 * The route of a delayed retry of `delayMs` to `queue`. The routing key holds one word per level
 * (`1` = wait in that level's queue, `0` = skip it) and then the queue name, so
 * `25 ms` to `billing` is `0.….0.1.1.billing` (3 units = levels 1 and 0).
 * Throws `MAILROOM_ERR_RABBITMQ_DELAY_TOO_LONG` beyond {@link MAX_DELAY_MS}.
 */
export function delayRoute(delayMs: number, queue: string): DelayRoute {
  if (!Number.isFinite(delayMs) || delayMs <= 0)
    throw new MailroomError(ErrorCodes.TRANSPORT_CONFIG, `A retry delay must be a number of milliseconds > 0, got ${delayMs}`);
  const units = Math.ceil(delayMs / DELAY_UNIT_MS);
  if (units > 2 ** DELAY_LEVELS - 1) {
    throw new MailroomError(
      RabbitMqErrorCodes.DELAY_TOO_LONG,
      `A retry delay of ${delayMs} ms is longer than the longest delay RabbitMQ's delay levels hold (${MAX_DELAY_MS} ms)`,
    );
  }
  const bits = units.toString(2).padStart(DELAY_LEVELS, '0');
  return { topLevel: units.toString(2).length - 1, routingKey: `${bits.split('').join('.')}.${queue}`, appliedMs: units * DELAY_UNIT_MS };
}

/** The binding patterns of level `level`'s exchange: to its own queue when its bit is 1, to the next lower level when 0. */
export function levelPatterns(level: number): { readonly wait: string; readonly skip: string } {
  const before = '*.'.repeat(DELAY_LEVELS - 1 - level);
  return { wait: `${before}1.#`, skip: `${before}0.#` };
}

/** The binding of an endpoint queue to the delay-deliver exchange: any level bits, then exactly its own name. */
export function deliverPattern(queue: string): string {
  return `${'*.'.repeat(DELAY_LEVELS)}${queue}`;
}

/**
 * The routing-key tail of a scheduled event of `type` (after the delay bits): it starts with the
 * reserved `amq.` prefix, which no queue name may have, so it never matches a queue's own binding.
 */
export function scheduledEventTail(type: string): string {
  return `amq.scheduled.${type}`;
}

/** The binding of an endpoint queue to the delay-deliver exchange for the scheduled events of `type` it handles. */
export function scheduledEventPattern(type: string): string {
  return `${'*.'.repeat(DELAY_LEVELS)}${scheduledEventTail(type)}`;
}

/** Whether scheduled events of `type` fit a routing key (255 bytes, with the 32 delay words); longer types cannot be scheduled. */
export function canScheduleEvent(type: string): boolean {
  return Buffer.byteLength(scheduledEventPattern(type)) <= 255;
}

/** How long level `level` holds a message. */
export function levelTtlMs(level: number): number {
  return DELAY_UNIT_MS * 2 ** level;
}

/**
 * Arguments of an endpoint queue: its type, and RabbitMQ's own dead-lettering into the error queue;
 * for quorum queues, the broker's delivery limit (`x-delivery-limit`) when one is given.
 */
export function endpointQueueArguments(queueType: RabbitMqQueueType, errorQueue: string, deliveryLimit?: number): Record<string, unknown> {
  const args: Record<string, unknown> = { 'x-queue-type': queueType, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': errorQueue };
  if (queueType === 'quorum' && deliveryLimit !== undefined) args['x-delivery-limit'] = deliveryLimit;
  return args;
}

/**
 * The `x-delivery-limit` an existing queue was declared with, read from RabbitMQ's refusal of a
 * declaration with another one (`... inequivalent arg 'x-delivery-limit' ... but current is none`):
 * `{ limit: undefined }` for none, undefined when the refusal is about something else.
 */
export function existingDeliveryLimit(refusal: string): { limit: number | undefined } | undefined {
  const match = /inequivalent arg 'x-delivery-limit'.*but current is (?:none|the value '(\d+)')/.exec(refusal);
  if (!match) return undefined;
  return { limit: match[1] === undefined ? undefined : Number(match[1]) };
}

/** Arguments of a delay level queue: a fixed TTL, then dead-lettering (at least once for quorum queues) to the next exchange. */
export function delayQueueArguments(level: number, queueType: RabbitMqQueueType, next: string): Record<string, unknown> {
  const args: Record<string, unknown> = { 'x-queue-type': queueType, 'x-message-ttl': levelTtlMs(level), 'x-dead-letter-exchange': next };
  if (queueType === 'quorum') Object.assign(args, { 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' });
  return args;
}

/** Arguments of the error queue, the registry and the lock queues on a single node: classic queues, which have no delivery limit to trip over when browsed. */
export const classicQueueArguments: Readonly<Record<string, unknown>> = Object.freeze({ 'x-queue-type': 'classic' });

/**
 * The delivery limit of the error queue and the registry when they are quorum queues: a browse
 * returns every message it does not remove, and RabbitMQ 4.0-4.2 count each return against a
 * default limit of 20, then drop the message. No browse count reaches this one.
 */
export const OWN_QUEUE_DELIVERY_LIMIT = 1_000_000_000;

/** The quorum group size argument of a queue in a cluster (`replicas` set); nothing on a single node. */
export function groupSizeArguments(replicas: number | undefined): Record<string, unknown> {
  return replicas === undefined ? {} : { 'x-quorum-initial-group-size': replicas };
}

/**
 * Arguments of the error queue, the registry and the lock queues: classic on a single node
 * (`replicas` unset); quorum queues of `replicas` members in a cluster, so none lives on one node only.
 */
export function ownQueueArguments(replicas: number | undefined): Record<string, unknown> {
  if (replicas === undefined) return { ...classicQueueArguments };
  return { 'x-queue-type': 'quorum', ...groupSizeArguments(replicas), 'x-delivery-limit': OWN_QUEUE_DELIVERY_LIMIT };
}

const MAX_QUEUE_BYTES = 255 - 2 * DELAY_LEVELS;

/**
 * Checks a queue name chosen by `queueName`: at most 191 bytes (it travels in delay routing keys),
 * no topic wildcards, not RabbitMQ's reserved `amq.` prefix. Throws `MAILROOM_ERR_TRANSPORT_CONFIG`.
 */
export function assertQueueName(queue: unknown, endpoint: string): asserts queue is string {
  const problem =
    typeof queue !== 'string' || queue === ''
      ? 'is empty or not a string'
      : Buffer.byteLength(queue) > MAX_QUEUE_BYTES
        ? `is longer than ${MAX_QUEUE_BYTES} bytes`
        : /[*#\s]/.test(queue)
          ? 'contains "*", "#" or white space'
          : queue.startsWith('amq.')
            ? 'starts with the reserved prefix "amq."'
            : undefined;
  if (problem)
    throw new MailroomError(ErrorCodes.TRANSPORT_CONFIG, `queueName(${JSON.stringify(endpoint)}) returned ${JSON.stringify(queue)}, which ${problem}`);
}
