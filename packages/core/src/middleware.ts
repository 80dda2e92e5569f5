import type { AnyContract } from './contract.js';
import type { Envelope, Headers } from './envelope.js';
import type { Logger } from './logger.js';
import type { Route } from './transport.js';

/** What incoming middleware sees: the decoded, upcast and validated message before its handler runs. */
export interface IncomingContext {
  readonly endpoint: string;
  readonly contract: AnyContract;
  readonly envelope: Envelope;
  /** The headers as received. */
  readonly headers: Readonly<Headers>;
  /** The message in the contract's current version; middleware may replace it. */
  message: unknown;
  readonly attempt: number;
  readonly log: Logger;
  readonly signal: AbortSignal;
}

/** What outgoing middleware sees: a validated message about to be encoded and sent. */
export interface OutgoingContext {
  readonly endpoint: string;
  readonly contract: AnyContract;
  readonly envelope: Envelope;
  readonly route: Route;
  readonly data: unknown;
  /** Extra headers to send; envelope headers are written over them. */
  readonly headers: Headers;
}

/** A behaviour wrapping the handling of each message: do work, call `next()`, do more work. */
export type IncomingMiddleware = (ctx: IncomingContext, next: () => Promise<void>) => Promise<void>;
/** A behaviour wrapping the sending of each message. */
export type OutgoingMiddleware = (ctx: OutgoingContext, next: () => Promise<void>) => Promise<void>;

/**
 * Runs `middleware` in order around `last`, each one deciding whether and when to call the next.
 * Calling `next()` twice in one middleware rejects. Without middleware it is `last` itself (no
 * dispatch closure, no extra promise per message).
 */
export function compose<C>(
  middleware: readonly ((ctx: C, next: () => Promise<void>) => Promise<void>)[],
  last: (ctx: C) => Promise<void>,
): (ctx: C) => Promise<void> {
  if (middleware.length === 0) return last;
  return (ctx) => {
    let index = -1;
    const dispatch = async (i: number): Promise<void> => {
      if (i <= index) throw new Error('next() was called more than once in one middleware');
      index = i;
      const current = middleware[i];
      if (current === undefined) return last(ctx);
      return current(ctx, () => dispatch(i + 1));
    };
    return dispatch(0);
  };
}
