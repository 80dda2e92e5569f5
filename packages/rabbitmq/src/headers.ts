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
  /** Marks the compact envelope form and packs `ce-specversion`, `ce-dataversion` and `ce-time` (see {@link amqpProperties}). */
  envelope: 'x-mailroom-envelope',
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
 * A message in the compact envelope form (it carries `x-mailroom-envelope`) gets back exactly the
 * headers it was published with: the attributes carried in AMQP properties and in the packed entry
 * are restored under their header names, and a header the table carries itself wins. A marker that
 * does not parse restores no packed attribute, so the envelope is then incomplete and the endpoint
 * dead-letters the message as invalid, as any message missing a CloudEvents attribute.
 */
export function userHeaders(message: AmqpMessage): Headers {
  const table = message.properties.headers;
  if (table === undefined) return {};
  const user: [string, unknown][] = [];
  let envelope: unknown;
  for (const name in table) {
    if (!Object.hasOwn(table, name)) continue;
    if (!isReservedHeader(name)) user.push([name, table[name]]);
    else if (name === Bookkeeping.envelope) envelope = table[name];
  }
  const headers = headersFrom(user);
  if (envelope !== undefined) restoreCompact(headers, message.properties, headerValueString(envelope));
  return headers;
}

/** Version tag that starts a packed `x-mailroom-envelope` value: `1 <specversion> <dataversion> <time>`, an empty slot for an attribute not packed. */
const PACKED_FORM = '1';
/** The attributes packed into `x-mailroom-envelope`, in slot order. */
const PACKED = ['ce-specversion', 'ce-dataversion', 'ce-time'] as const;

/** Writes into `headers` the attributes a compact message carries outside its table, unless the table had them. */
function restoreCompact(headers: Headers, properties: AmqpMessage['properties'], packed: string | undefined): void {
  const restore = (name: string, value: string | undefined) => {
    if (value !== undefined && value !== '' && !Object.hasOwn(headers, name)) headers[name] = value;
  };
  restore('ce-id', properties.messageId);
  restore('ce-type', properties.type);
  restore('content-type', properties.contentType);
  restore('ce-correlationid', properties.correlationId);
  restore('ce-source', properties.appId);
  const slots = packed?.split(' ');
  if (slots?.length !== PACKED.length + 1 || slots[0] !== PACKED_FORM) return;
  for (let index = 0; index < PACKED.length; index++) restore(PACKED[index]!, slots[index + 1]);
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

/**
 * How the envelope headers go on the wire. `compact` (default): `ce-id`, `ce-type`, `content-type`,
 * `ce-correlationid` and `ce-source` in the AMQP properties `messageId`, `type`, `contentType`,
 * `correlationId` and `appId`, and `ce-specversion`, `ce-dataversion` and `ce-time` packed into the
 * one table entry `x-mailroom-envelope`; 7-17% more messages per second than `full` (classic queue), where every
 * header is its own table entry (what earlier versions wrote, and all they can read).
 */
export type EnvelopeHeaders = 'compact' | 'full';

/** The AMQP properties of an outgoing message. */
export interface OutgoingProperties {
  headers: Record<string, string>;
  contentType?: string;
  messageId?: string;
  type?: string;
  correlationId?: string;
  appId?: string;
}

type CompactProperty = 'messageId' | 'type' | 'contentType' | 'correlationId' | 'appId';

/** The AMQP property that carries header `name` in the compact form, if any. */
function propertyOf(name: string): CompactProperty | undefined {
  switch (name) {
    case 'ce-id':
      return 'messageId';
    case 'ce-type':
      return 'type';
    case 'content-type':
      return 'contentType';
    case 'ce-correlationid':
      return 'correlationId';
    case 'ce-source':
      return 'appId';
    default:
      return undefined;
  }
}

/**
 * The AMQP properties of an outgoing message in the given form. `full`: every header in the table,
 * plus `content-type`, `ce-id` and `ce-type` mirrored into the standard properties for other AMQP
 * tools. `compact` (see {@link EnvelopeHeaders}): a header moves into its property only when it is
 * not empty and fits an AMQP short string (255 bytes of UTF-8), and into the packed entry only when
 * it is not empty and has no space; any other stays in the table under its own name, and
 * {@link userHeaders} restores exactly the headers given.
 */
export function amqpProperties(headers: Record<string, string>, form: EnvelopeHeaders = 'full'): OutgoingProperties {
  if (form === 'compact') return compactProperties(headers);
  const properties: OutgoingProperties = { headers };
  const contentType = headers['content-type'];
  const messageId = headers['ce-id'];
  const type = headers['ce-type'];
  if (contentType !== undefined && fitsShortString(contentType)) properties.contentType = contentType;
  if (messageId !== undefined && fitsShortString(messageId)) properties.messageId = messageId;
  if (type !== undefined && fitsShortString(type)) properties.type = type;
  return properties;
}

function compactProperties(headers: Record<string, string>): OutgoingProperties {
  const table: Record<string, string> = { [Bookkeeping.envelope]: '' };
  const properties: OutgoingProperties = { headers: table };
  const packed = ['', '', ''];
  for (const name in headers) {
    if (!Object.hasOwn(headers, name)) continue;
    const value = headers[name]!;
    const property = propertyOf(name);
    if (property !== undefined) {
      if (value !== '' && fitsShortString(value)) {
        properties[property] = value;
        continue;
      }
    } else {
      const slot = (PACKED as readonly string[]).indexOf(name);
      if (slot >= 0 && value !== '' && !value.includes(' ')) {
        packed[slot] = value;
        continue;
      }
    }
    if (name === '__proto__') Object.defineProperty(table, name, { value, enumerable: true, writable: true, configurable: true });
    else table[name] = value;
  }
  table[Bookkeeping.envelope] = `${PACKED_FORM} ${packed[0]} ${packed[1]} ${packed[2]}`;
  return properties;
}
