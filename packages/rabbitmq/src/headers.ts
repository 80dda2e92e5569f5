import type { Headers } from '@mailroom/core';
import { MailroomError } from '@mailroom/core';
import { headersFrom, headerValueString, plausibleDate } from '@mailroom/core/internal';
import type { AmqpMessage } from './amqp-types.js';
import { RabbitMqErrorCodes } from './errors.js';

/** Prefix of the transport's own bookkeeping headers; stripped before a consumer sees the headers. */
export const BOOKKEEPING_PREFIX = 'x-mailroom-';

/** The bookkeeping headers the transport writes. */
export const Bookkeeping = {
  /** Deliveries made before this copy was published (a retry carries the count on). */
  attempts: 'x-mailroom-attempts',
  /** Epoch milliseconds of the first failed attempt. */
  firstFailureAt: 'x-mailroom-first-failure-at',
  /** Correlates a returned (unroutable) mandatory publish with its caller. */
  publishId: 'x-mailroom-publish-id',
  deadLetterId: 'x-mailroom-dlq-id',
  endpoint: 'x-mailroom-dlq-endpoint',
  queue: 'x-mailroom-dlq-queue',
  reason: 'x-mailroom-dlq-reason',
  errorMessage: 'x-mailroom-dlq-error-message',
  errorStack: 'x-mailroom-dlq-error-stack',
  deadLetterAttempts: 'x-mailroom-dlq-attempts',
  firstFailure: 'x-mailroom-dlq-first-failure-at',
  lastFailure: 'x-mailroom-dlq-last-failure-at',
  deadLetteredAt: 'x-mailroom-dlq-dead-lettered-at',
} as const;

/** The most deliveries a carried count may claim; a larger `x-mailroom-attempts` is forged and ignored. */
const MAX_CARRIED_ATTEMPTS = 1_000_000;

/** Headers RabbitMQ adds or interprets itself (dead-lettering history, delivery count, sender-selected distribution). */
const BROKER_HEADERS = new Set(['x-death', 'x-delivery-count', 'CC', 'BCC']);
const BROKER_PREFIXES = ['x-first-death-', 'x-last-death-'];

/** True for a header name the transport or the broker owns. */
export function isReservedHeader(name: string): boolean {
  // Every reserved name starts with "x" but CC and BCC: the user's other headers (ce-*, content-type...) stop at the first test.
  const first = name.charCodeAt(0);
  if (first !== 120 /* x */) return first === 67 /* C */ || first === 66 /* B */ ? BROKER_HEADERS.has(name) : false;
  if (name.startsWith(BOOKKEEPING_PREFIX) || BROKER_HEADERS.has(name)) return true;
  for (const prefix of BROKER_PREFIXES) if (name.startsWith(prefix)) return true;
  return false;
}

/** The longest header name or short string, in UTF-16 code units, that surely fits AMQP's 255 bytes (at most 3 UTF-8 bytes per unit). */
const SURELY_SHORT = 85;

/** True when `value` fits an AMQP short string (255 bytes of UTF-8); counts the bytes only for a value that may not. */
function fitsShortString(value: string): boolean {
  return value.length <= SURELY_SHORT || Buffer.byteLength(value) <= 255;
}

/** Throws `MAILROOM_ERR_RABBITMQ_HEADER_INVALID` for a header AMQP cannot carry or the transport reserves. */
export function assertPublishableHeaders(headers: Headers): void {
  for (const name in headers) {
    if (!Object.hasOwn(headers, name)) continue;
    const value = headers[name];
    if (isReservedHeader(name)) {
      throw new MailroomError(
        RabbitMqErrorCodes.HEADER_INVALID,
        `Header ${JSON.stringify(name)} is reserved by the RabbitMQ transport (x-mailroom-*, x-death, x-delivery-count, x-first-death-*, x-last-death-*, CC, BCC); rename it`,
      );
    }
    if (!fitsShortString(name))
      throw new MailroomError(RabbitMqErrorCodes.HEADER_INVALID, `Header name ${JSON.stringify(name.slice(0, 40))}... is longer than 255 bytes`);
    if (typeof value !== 'string')
      throw new MailroomError(RabbitMqErrorCodes.HEADER_INVALID, `Header ${JSON.stringify(name)} must be a string, got ${typeof value}`);
  }
}

/**
 * The user's headers of a received message (bookkeeping and broker headers removed), every value as
 * a string (bytes as UTF-8, numbers in decimal, tables as JSON); a `__proto__` header stays a header.
 */
export function userHeaders(message: AmqpMessage): Headers {
  const table = message.properties.headers;
  if (table === undefined) return {};
  const user: [string, unknown][] = [];
  for (const name in table) if (Object.hasOwn(table, name) && !isReservedHeader(name)) user.push([name, table[name]]);
  return headersFrom(user);
}

/** A bookkeeping header as a string, or undefined. */
export function bookkeeping(message: AmqpMessage, name: string): string | undefined {
  return headerValueString(message.properties.headers?.[name]);
}

/**
 * Deliveries of this message so far, this one included: the carried count, plus RabbitMQ's
 * redeliveries of this copy. A carried count that is not a whole number from 0 to a million (a
 * forged header) counts as 0.
 */
export function attemptOf(message: AmqpMessage): number {
  const count = message.properties.headers?.['x-delivery-count'];
  const redeliveries = typeof count === 'number' && Number.isSafeInteger(count) && count >= 0 ? count : message.fields.redelivered ? 1 : 0;
  return carriedAttempts(message) + redeliveries + 1;
}

/** The deliveries made before this copy was published (`x-mailroom-attempts`), 0 when absent or forged. */
export function carriedAttempts(message: AmqpMessage): number {
  const carried = Number(bookkeeping(message, Bookkeeping.attempts) ?? 0);
  return Number.isSafeInteger(carried) && carried > 0 && carried <= MAX_CARRIED_ATTEMPTS ? carried : 0;
}

/** The first failure time carried by the message, if it is a plausible one (see `plausibleDate`): a forged header is ignored. */
export function firstFailureOf(message: AmqpMessage): Date | undefined {
  return plausibleDate(bookkeeping(message, Bookkeeping.firstFailureAt));
}

/** The AMQP properties of an outgoing message. */
export interface OutgoingProperties {
  headers: Record<string, string>;
  contentType?: string;
  messageId?: string;
  type?: string;
}

/** The AMQP properties of an outgoing message: its headers, plus `content-type`, `ce-id` and `ce-type` mirrored into the standard properties for other AMQP tools. */
export function amqpProperties(headers: Record<string, string>): OutgoingProperties {
  const properties: OutgoingProperties = { headers };
  const contentType = headers['content-type'];
  const messageId = headers['ce-id'];
  const type = headers['ce-type'];
  if (contentType !== undefined && fitsShortString(contentType)) properties.contentType = contentType;
  if (messageId !== undefined && fitsShortString(messageId)) properties.messageId = messageId;
  if (type !== undefined && fitsShortString(type)) properties.type = type;
  return properties;
}
