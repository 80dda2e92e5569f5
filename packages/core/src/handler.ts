import type { AnyContract, CommandContract, EventContract, MessageOf, PayloadOf } from './contract.js';
import type { Envelope, Headers } from './envelope.js';
import type { Logger } from './logger.js';
import type { RecoverabilityConfig } from './recoverability.js';
import type { ScheduleOptions } from './schedule.js';

/**
 * Options when publishing or sending. `deliverAt` or `delayMs` (from {@link ScheduleOptions})
 * schedule the message: the transport delivers it no sooner than that (see docs/scheduling.md).
 */
export interface PublishOptions extends ScheduleOptions {
  /** Joins an existing process; default: a new one (the message id). */
  correlationId?: string;
  causationId?: string;
  /**
   * The W3C trace context to continue when no span is active (an HTTP request's `traceparent`);
   * the message then carries a producer span of that trace (or, without an SDK, this value as it is).
   */
  traceparent?: string;
  /** The `tracestate` that goes with `traceparent`. */
  tracestate?: string;
  /** Choose the message id (for idempotent re-publishing); default a UUIDv7. */
  id?: string;
  /** Extra headers carried with the message. */
  headers?: Headers;
  /**
   * Messages with the same ordering key (an aggregate id such as an order id) leave the outbox one
   * after another, in the order they were written. Applies to messages written to the outbox (in a
   * transaction, in a handler with persistence, or with `tx`); at most 200 characters.
   */
  orderingKey?: string;
}

/** Options of `send`: where the command goes when not to its contract's owner. */
export interface SendOptions extends PublishOptions {
  to?: string;
}

/** The publishing half of a handler or transaction scope. */
export interface Bus {
  /** Validates and queues an event; it leaves only when the surrounding handler or transaction succeeds. Resolves with its envelope. */
  publish<C extends EventContract>(contract: C, data: PayloadOf<C>, options?: PublishOptions): Promise<Envelope>;
  /** Validates and queues a command for its owner; it leaves only when the surrounding handler or transaction succeeds. */
  send<C extends CommandContract>(contract: C, data: PayloadOf<C>, options?: SendOptions): Promise<Envelope>;
}

/** What a handler receives besides the message. */
export interface HandlerContext<Tx = undefined> extends Bus {
  readonly endpoint: string;
  /** CloudEvents attributes of the message being handled. */
  readonly envelope: Envelope;
  readonly headers: Readonly<Headers>;
  /** 1 on the first delivery. */
  readonly attempt: number;
  /** Aborted when the endpoint stops and its deadline has passed. */
  readonly signal: AbortSignal;
  /** A logger bound to the message id, type, correlation id and attempt. */
  readonly log: Logger;
  /**
   * The transaction of the service's database, when the endpoint has persistence: write your
   * rows with it and they commit together with the inbox record and the outgoing messages.
   */
  readonly tx: Tx;
}

/** A message handler. Throw to fail; the recoverability policy decides what happens next. */
export type Handler<C extends AnyContract, Tx = undefined> = (message: MessageOf<C>, ctx: HandlerContext<Tx>) => unknown;

/** Options of one handler registration. */
export interface HandlerOptions {
  /** Retry settings for this contract, over the endpoint's. */
  recoverability?: Partial<RecoverabilityConfig>;
}
