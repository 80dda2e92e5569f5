import { createHash } from 'node:crypto';
import { MailroomError } from '@mailroom/core';
import { NatsErrorCodes } from './errors.js';

/** Which endpoint and message type a subject or consumer belongs to. */
export interface NameParts {
  readonly endpoint: string;
  readonly type: string;
}

/**
 * Every JetStream name the transport uses, derived from one prefix: streams, subjects, consumers
 * and the retry-state bucket. Pure and deterministic, so every process computes the same names.
 */
export interface NatsNames {
  readonly prefix: string;
  /** Interest-retention stream of events: kept until every subscribed endpoint acknowledged them. */
  readonly eventsStream: string;
  /** Work-queue stream of commands and replays, kept until their endpoint acknowledged them. */
  readonly commandsStream: string;
  /** Limits-retention stream of dead letters, kept until replayed or purged. */
  readonly deadLettersStream: string;
  /** Key-value bucket holding the first failure time of messages waiting for a retry. */
  readonly retryStateBucket: string;
  /** Object store bucket holding the bodies (and headers) of dead letters too large for one message. */
  readonly deadLetterObjectsBucket: string;
  /** Every JetStream stream the transport may create under this prefix (the buckets' streams included), for tooling that removes them. */
  readonly streams: readonly string[];
  eventSubject(type: string): string;
  /** The subject of a command (or replay) for `endpoint`; its consumer filters `<prefix>.command.<endpoint>.>`. */
  commandSubject(endpoint: string, type: string): string;
  commandFilter(endpoint: string): string;
  deadLetterSubject(endpoint: string, type: string): string;
  /** Subject filter of dead letters, narrowed by endpoint and/or type. */
  deadLetterFilter(endpoint?: string, type?: string): string;
  /** Core NATS subject on which running subscriptions of an endpoint answer presence pings. */
  presenceSubject(endpoint: string): string;
  /** The durable consumer of an endpoint on the commands stream. */
  commandConsumer(endpoint: string): string;
  /** The durable consumer of an endpoint for one event type on the events stream. */
  eventConsumer(endpoint: string, type: string): string;
  /** Endpoint and type of a command or dead-letter subject; undefined for foreign subjects. */
  parseSubject(subject: string): NameParts | undefined;
  /** The endpoint a consumer of either stream belongs to; undefined for consumers Mailroom did not create. */
  consumerEndpoint(consumer: string): string | undefined;
}

const PREFIX = /^[a-z][a-z0-9_-]{0,31}$/;
const TYPE_SUBJECT = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;
const ENDPOINT = /^[a-z0-9][a-z0-9_.-]{0,99}$/;
const EVENT_CONSUMER = /^([a-z0-9_=-]+?)_[EH]_/;
const MAX_CONSUMER_NAME = 200;

/** True when `prefix` is a valid name prefix: a lower-case letter, then letters, digits, `_` or `-` (at most 32). */
export function isValidPrefix(prefix: unknown): prefix is string {
  return typeof prefix === 'string' && PREFIX.test(prefix);
}

function subjectError(message: string): MailroomError {
  return new MailroomError(NatsErrorCodes.NATS_SUBJECT_INVALID, message);
}

/** An endpoint as one subject token and consumer name: `.` becomes `=` (never in endpoint names, so reversible). */
function endpointToken(endpoint: string): string {
  if (!ENDPOINT.test(endpoint)) {
    throw subjectError(`Endpoint name ${JSON.stringify(endpoint)} is not valid: use lower-case letters, digits, '_', '.', '-' (at most 100 characters)`);
  }
  return endpoint.replaceAll('.', '=');
}

/** A type as subject tokens: its dots become subject levels, so `orders.Placed` is `<prefix>.event.orders.Placed`. */
function typeTokens(type: string): string {
  if (!TYPE_SUBJECT.test(type)) {
    throw subjectError(
      `Message type ${JSON.stringify(type)} cannot be a NATS subject: use letters, digits, '_', '-' and single dots between them (no empty segment, no trailing dot)`,
    );
  }
  return type;
}

/** Builds the names for a prefix (default `mailroom`): streams `MAILROOM_EVENTS`, `MAILROOM_COMMANDS`, `MAILROOM_DEAD_LETTERS`. */
export function createNatsNames(prefix: string): NatsNames {
  const upper = prefix.toUpperCase();
  return {
    prefix,
    eventsStream: `${upper}_EVENTS`,
    commandsStream: `${upper}_COMMANDS`,
    deadLettersStream: `${upper}_DEAD_LETTERS`,
    retryStateBucket: `${upper}_RETRY_STATE`,
    deadLetterObjectsBucket: `${upper}_DEAD_LETTER_OBJECTS`,
    streams: [`${upper}_EVENTS`, `${upper}_COMMANDS`, `${upper}_DEAD_LETTERS`, `KV_${upper}_RETRY_STATE`, `OBJ_${upper}_DEAD_LETTER_OBJECTS`],
    eventSubject: (type) => `${prefix}.event.${typeTokens(type)}`,
    commandSubject: (endpoint, type) => `${prefix}.command.${endpointToken(endpoint)}.${typeTokens(type)}`,
    commandFilter: (endpoint) => `${prefix}.command.${endpointToken(endpoint)}.>`,
    deadLetterSubject: (endpoint, type) => `${prefix}.dlq.${endpointToken(endpoint)}.${typeTokens(type)}`,
    deadLetterFilter: (endpoint, type) =>
      `${prefix}.dlq.${endpoint === undefined ? '*' : endpointToken(endpoint)}.${type === undefined ? '>' : typeTokens(type)}`,
    presenceSubject: (endpoint) => `${prefix}.presence.${endpointToken(endpoint)}`,
    commandConsumer: (endpoint) => endpointToken(endpoint),
    eventConsumer(endpoint, type) {
      const name = `${endpointToken(endpoint)}_E_${typeTokens(type).replaceAll('.', '=')}`;
      if (name.length <= MAX_CONSUMER_NAME) return name;
      return `${endpointToken(endpoint)}_H_${createHash('sha256').update(type).digest('hex').slice(0, 40)}`;
    },
    parseSubject(subject) {
      const parts = subject.split('.');
      if (parts[0] !== prefix || (parts[1] !== 'command' && parts[1] !== 'dlq') || parts.length < 4) return undefined;
      return { endpoint: (parts[2] as string).replaceAll('=', '.'), type: parts.slice(3).join('.') };
    },
    consumerEndpoint(consumer) {
      const match = EVENT_CONSUMER.exec(consumer);
      const token = match ? (match[1] as string) : consumer;
      const endpoint = token.replaceAll('=', '.');
      return ENDPOINT.test(endpoint) ? endpoint : undefined;
    },
  };
}
