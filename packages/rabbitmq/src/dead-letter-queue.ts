import { createHash } from 'node:crypto';
import {
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterPage,
  type DeadLetterQueue,
  type DeadLetterRequest,
  ErrorCodes,
  HeaderNames,
  type Headers,
  MailroomError,
} from '@mailroom/core';
import {
  boundedText,
  checkDeadLetterFilter,
  checkPageFilter,
  compareDeadLetters,
  matchesFilter,
  pageDeadLetters,
  safeDeadLetterRequest,
  selectDeadLetters,
} from '@mailroom/core/internal';
import type { AmqpMessage } from './amqp-types.js';
import { type Browse, browseQueue } from './browse.js';
import type { ConnectionSupervisor } from './connection-supervisor.js';
import { RabbitMqErrorCodes } from './errors.js';
import { Bookkeeping, bookkeeping, carriedAttempts, userHeaders } from './headers.js';
import type { TopologyNames } from './names.js';
import type { Outbound } from './outbound.js';
import type { Topology } from './topology.js';

/** Longest error message kept on a dead letter (characters); longer ones are cut, marked. */
export const MAX_ERROR_MESSAGE = 4000;
/** Longest error stack kept on a dead letter (characters). */
export const MAX_ERROR_STACK = 16_000;
/**
 * The headers of a dead letter in the error queue: the original headers, then the failure details.
 * Never throws: the request is made safe first (real dates, bounded texts).
 */
export function deadLetterHeaders(
  original: Headers,
  unsafe: DeadLetterRequest,
  endpoint: string,
  queue: string,
  id: string,
  now = new Date(),
): Record<string, string> {
  const request = safeDeadLetterRequest(unsafe, now);
  const headers: Record<string, string> = {
    ...original,
    [Bookkeeping.deadLetterId]: id,
    [Bookkeeping.endpoint]: endpoint,
    [Bookkeeping.queue]: queue,
    [Bookkeeping.reason]: request.reason,
    [Bookkeeping.errorMessage]: boundedText(request.errorMessage, MAX_ERROR_MESSAGE),
    [Bookkeeping.deadLetterAttempts]: String(request.attempts),
    [Bookkeeping.firstFailure]: request.firstFailureAt.toISOString(),
    [Bookkeeping.lastFailure]: request.lastFailureAt.toISOString(),
    [Bookkeeping.deadLetteredAt]: now.toISOString(),
  };
  if (request.errorStack !== undefined) headers[Bookkeeping.errorStack] = boundedText(request.errorStack, MAX_ERROR_STACK);
  return headers;
}

/** What the dead-letter queue needs from its transport. */
export interface DeadLetterQueueContext {
  readonly supervisor: ConnectionSupervisor;
  readonly topology: Topology;
  readonly outbound: Outbound;
  readonly names: TopologyNames;
  readonly lockTimeoutMs: number;
  readonly unavailableTimeoutMs: number;
  /** The endpoint whose queue is `queue` (for messages RabbitMQ dead-lettered itself). */
  endpointOf(queue: string): string;
}

interface Parsed {
  readonly letter: DeadLetter;
  readonly queue: string;
  readonly message: AmqpMessage;
}

/**
 * The dead letters of every endpoint, kept in the one error queue `<namespace>.error` and read by
 * browsing it under a lock (see `browseQueue`). Guarantees: a dead letter keeps the original headers
 * and body byte for byte; `replay` resolves only once the message is confirmed in its endpoint's
 * queue, then removes the dead letter (a crash in between leaves both: at least once). Messages
 * RabbitMQ dead-lettered itself (e.g. a quorum queue's delivery limit) are listed too, with reason
 * `MAILROOM_ERR_RABBITMQ_BROKER_DEAD_LETTERED`.
 */
export class RabbitMqDeadLetterQueue implements DeadLetterQueue {
  constructor(private readonly context: DeadLetterQueueContext) {}

  /** Dead letters matching the filter, in its order (oldest first by default). */
  async list(filter: DeadLetterFilter = {}): Promise<DeadLetter[]> {
    const order = checkDeadLetterFilter(filter);
    const matches = selectDeadLetters(await this.all(), filter, order);
    return filter.limit === undefined ? matches : matches.slice(0, filter.limit);
  }

  /**
   * One page of the matching dead letters. RabbitMQ queues cannot seek: every page browses the
   * whole error queue under its lock (cost proportional to all dead letters, not to the page),
   * then cuts the page in memory with the same keyset semantics as the indexed transports.
   */
  async page(filter: DeadLetterFilter = {}): Promise<DeadLetterPage> {
    checkPageFilter(filter, 'rabbitmq');
    return pageDeadLetters(await this.all(), filter, 'rabbitmq');
  }

  private all(): Promise<DeadLetter[]> {
    return this.browse(async ({ messages }) => messages.map((message) => this.parse(message).letter));
  }

  /** The dead letter with this id; throws `MAILROOM_ERR_DEAD_LETTER_NOT_FOUND`. */
  async get(id: string): Promise<DeadLetter> {
    const found = await this.browse(async ({ messages }) => this.find(messages, id));
    if (!found) throw notFound(id);
    return found.letter;
  }

  /**
   * Sends the dead letter back to its endpoint's queue as it was first published (attempts start
   * again at 1), then removes it. Throws `MAILROOM_ERR_RABBITMQ_DEAD_LETTER_NO_ENDPOINT`, leaving the
   * dead letter in place and publishing nothing, when it does not say which queue it came from.
   */
  async replay(id: string): Promise<void> {
    const replayed = await this.browse(async (browse) => {
      const found = this.find(browse.messages, id);
      if (!found) return false;
      const deadline = Date.now() + this.context.unavailableTimeoutMs;
      const { letter, queue, message } = found;
      if (queue === '') {
        // Publishing to '' would declare a server-named queue (or fail as a topology mismatch on quorum queues).
        throw new MailroomError(
          RabbitMqErrorCodes.DEAD_LETTER_NO_ENDPOINT,
          `Dead letter ${id} has no known endpoint: it does not say which queue it came from (RabbitMQ dead-lettered it without x-first-death-queue, or another client put it in ${this.context.names.errorQueue}), so it cannot be replayed. It stays in the dead-letter queue: inspect it, then publish it yourself or purge it`,
        );
      }
      await this.context.outbound.toQueue(queue, Buffer.from(letter.body), this.context.outbound.properties({ ...letter.headers }), deadline);
      browse.remove(message);
      return true;
    });
    if (!replayed) throw notFound(id);
  }

  /** Deletes the matching dead letters; returns how many. */
  async purge(filter: DeadLetterFilter = {}): Promise<number> {
    const order = checkDeadLetterFilter(filter);
    return this.browse(async (browse) => {
      const matches = browse.messages
        .map((message) => this.parse(message))
        .filter(({ letter }) => matchesFilter(letter, filter))
        .sort((a, b) => compareDeadLetters(a.letter, b.letter) * (order === 'newest-first' ? -1 : 1));
      const chosen = filter.limit === undefined ? matches : matches.slice(0, filter.limit);
      for (const { message } of chosen) browse.remove(message);
      return chosen.length;
    });
  }

  /** How many dead letters each endpoint has. */
  async countByEndpoint(): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const letter of await this.list()) counts.set(letter.endpoint, (counts.get(letter.endpoint) ?? 0) + 1);
    return counts;
  }

  private browse<T>(visit: (browse: Browse) => Promise<T>): Promise<T> {
    const { supervisor, topology, names, lockTimeoutMs } = this.context;
    return browseQueue(supervisor, topology, names.errorQueue, names.lock(names.errorQueue), lockTimeoutMs, visit);
  }

  private find(messages: readonly AmqpMessage[], id: string): Parsed | undefined {
    for (const message of messages) {
      const parsed = this.parse(message);
      if (parsed.letter.id === id) return parsed;
    }
    return undefined;
  }

  private parse(message: AmqpMessage): Parsed {
    const headers = userHeaders(message);
    const body = new Uint8Array(message.content);
    const common = { messageId: headers[HeaderNames.id] ?? '', type: headers[HeaderNames.type] ?? '', headers, body };
    const id = bookkeeping(message, Bookkeeping.deadLetterId);
    if (id !== undefined) {
      const queue = bookkeeping(message, Bookkeeping.queue) ?? '';
      const deadLetteredAt = date(bookkeeping(message, Bookkeeping.deadLetteredAt));
      return {
        queue,
        message,
        letter: {
          id,
          endpoint: bookkeeping(message, Bookkeeping.endpoint) ?? queue,
          ...common,
          reason: bookkeeping(message, Bookkeeping.reason) ?? ErrorCodes.HANDLER_FAILED,
          errorMessage: bookkeeping(message, Bookkeeping.errorMessage) ?? '',
          errorStack: bookkeeping(message, Bookkeeping.errorStack),
          attempts: positiveCount(bookkeeping(message, Bookkeeping.deadLetterAttempts)),
          firstFailureAt: date(bookkeeping(message, Bookkeeping.firstFailure), deadLetteredAt),
          lastFailureAt: date(bookkeeping(message, Bookkeeping.lastFailure), deadLetteredAt),
          deadLetteredAt,
        },
      };
    }
    return this.parseBrokerDeadLetter(message, common);
  }

  /** A message RabbitMQ moved here itself: its history is in the `x-death` header. */
  private parseBrokerDeadLetter(message: AmqpMessage, common: Pick<DeadLetter, 'messageId' | 'type' | 'headers' | 'body'>): Parsed {
    const raw = message.properties.headers ?? {};
    const queue = typeof raw['x-first-death-queue'] === 'string' ? raw['x-first-death-queue'] : '';
    const why = typeof raw['x-first-death-reason'] === 'string' ? raw['x-first-death-reason'] : 'unknown';
    const deaths = Array.isArray(raw['x-death']) ? (raw['x-death'] as { queue?: unknown; time?: unknown; count?: unknown }[]) : [];
    const death = deaths.find((entry) => entry.queue === queue) ?? deaths[0];
    const seconds = timestampSeconds(death?.time);
    const at = seconds === undefined ? new Date(0) : new Date(seconds * 1000);
    const count = raw['x-delivery-count'];
    const deliveries = typeof count === 'number' && Number.isSafeInteger(count) && count > 0 ? count : 0;
    const id = `rabbitmq-${createHash('sha256')
      .update(`${queue}\n${why}\n${at.getTime()}\n${common.messageId}\n`)
      .update(message.content)
      .digest('hex')
      .slice(0, 32)}`;
    return {
      queue,
      message,
      letter: {
        id,
        endpoint: queue ? this.context.endpointOf(queue) : '',
        ...common,
        reason: why === 'delivery_limit' ? ErrorCodes.TRANSPORT_DELIVERY_LIMIT : RabbitMqErrorCodes.BROKER_DEAD_LETTERED,
        errorMessage: `RabbitMQ dead-lettered the message from queue ${queue || '(unknown)'} (reason: ${why})`,
        errorStack: undefined,
        attempts: carriedAttempts(message) + Math.max(1, deliveries),
        firstFailureAt: at,
        lastFailureAt: at,
        deadLetteredAt: at,
      },
    };
  }
}

/** A count written by this transport; 1 when missing or not a whole number >= 1 (another client wrote it). */
function positiveCount(value: string | undefined): number {
  const count = Number(value);
  return Number.isSafeInteger(count) && count >= 1 ? count : 1;
}

/** amqplib reads an AMQP timestamp as `{ '!': 'timestamp', value: seconds }`. */
function timestampSeconds(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  const inner = typeof value === 'object' && value !== null ? (value as { value?: unknown }).value : undefined;
  return typeof inner === 'number' ? inner : undefined;
}

function date(value: string | undefined, fallback?: Date): Date {
  const ms = value === undefined ? Number.NaN : Date.parse(value);
  return Number.isFinite(ms) ? new Date(ms) : (fallback ?? new Date(0));
}

function notFound(id: string): MailroomError {
  return new MailroomError(ErrorCodes.DEAD_LETTER_NOT_FOUND, `No dead letter with id ${id}`);
}
