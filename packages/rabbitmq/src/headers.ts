import type { Headers } from '@mailroom/core';
import { MailroomError } from '@mailroom/core';
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

/** Headers RabbitMQ adds or interprets itself (dead-lettering history, delivery count, sender-selected distribution). */
const BROKER_HEADERS = new Set(['x-death', 'x-delivery-count', 'CC', 'BCC']);
const BROKER_PREFIXES = ['x-first-death-', 'x-last-death-'];

/** True for a header name the transport or the broker owns. */
export function isReservedHeader(name: string): boolean {
  return name.startsWith(BOOKKEEPING_PREFIX) || BROKER_HEADERS.has(name) || BROKER_PREFIXES.some((prefix) => name.startsWith(prefix));
}

/** Throws `MAILROOM_ERR_RABBITMQ_HEADER_INVALID` for a header AMQP cannot carry or the transport reserves. */
export function assertPublishableHeaders(headers: Headers): void {
  for (const [name, value] of Object.entries(headers)) {
    if (isReservedHeader(name)) {
      throw new MailroomError(
        RabbitMqErrorCodes.HEADER_INVALID,
        `Header ${JSON.stringify(name)} is reserved by the RabbitMQ transport (x-mailroom-*, x-death, x-delivery-count, x-first-death-*, x-last-death-*, CC, BCC); rename it`,
      );
    }
    if (Buffer.byteLength(name) > 255)
      throw new MailroomError(RabbitMqErrorCodes.HEADER_INVALID, `Header name ${JSON.stringify(name.slice(0, 40))}... is longer than 255 bytes`);
    if (typeof value !== 'string')
      throw new MailroomError(RabbitMqErrorCodes.HEADER_INVALID, `Header ${JSON.stringify(name)} must be a string, got ${typeof value}`);
  }
}

/** The user's headers of a received message (bookkeeping and broker headers removed), every value as a string. */
export function userHeaders(message: AmqpMessage): Headers {
  const headers: Headers = {};
  for (const [name, value] of Object.entries(message.properties.headers ?? {})) {
    if (isReservedHeader(name) || value === undefined || value === null) continue;
    headers[name] = headerString(value);
  }
  return headers;
}

/** A bookkeeping header as a string, or undefined. */
export function bookkeeping(message: AmqpMessage, name: string): string | undefined {
  const value = message.properties.headers?.[name];
  return value === undefined || value === null ? undefined : headerString(value);
}

/** A header of a foreign producer as a string: strings as they are, bytes as UTF-8, anything else as JSON. */
function headerString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Deliveries of this message so far, this one included: the carried count, plus RabbitMQ's redeliveries of this copy. */
export function attemptOf(message: AmqpMessage): number {
  const carried = Number(bookkeeping(message, Bookkeeping.attempts) ?? 0);
  const count = message.properties.headers?.['x-delivery-count'];
  const redeliveries = typeof count === 'number' && count >= 0 ? count : message.fields.redelivered ? 1 : 0;
  return (Number.isSafeInteger(carried) && carried > 0 ? carried : 0) + redeliveries + 1;
}

/** The first failure time carried by the message, if any. */
export function firstFailureOf(message: AmqpMessage): Date | undefined {
  const raw = bookkeeping(message, Bookkeeping.firstFailureAt);
  const ms = raw === undefined ? Number.NaN : Number(raw);
  return Number.isFinite(ms) ? new Date(ms) : undefined;
}

/** Cuts a string to at most `max` UTF-16 units, marking the cut. Keeps dead-letter headers inside AMQP's frame. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [${text.length - max} more characters cut]`;
}

/** The AMQP properties of an outgoing message: its headers, plus `content-type`, `ce-id` and `ce-type` mirrored into the standard properties for other AMQP tools. */
export function amqpProperties(headers: Record<string, string>): { headers: Record<string, string>; contentType?: string; messageId?: string; type?: string } {
  const short = (value: string | undefined) => (value !== undefined && Buffer.byteLength(value) <= 255 ? value : undefined);
  const properties: { headers: Record<string, string>; contentType?: string; messageId?: string; type?: string } = { headers };
  const contentType = short(headers['content-type']);
  const messageId = short(headers['ce-id']);
  const type = short(headers['ce-type']);
  if (contentType !== undefined) properties.contentType = contentType;
  if (messageId !== undefined) properties.messageId = messageId;
  if (type !== undefined) properties.type = type;
  return properties;
}
