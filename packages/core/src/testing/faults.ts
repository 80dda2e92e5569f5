import type { AnyContract } from '../contract.js';
import { HeaderNames } from '../envelope.js';
import { ErrorCodes, MailroomError } from '../errors.js';
import type { IncomingMiddleware } from '../middleware.js';
import type { OutgoingMessage } from '../transport.js';

/** Which messages a fault applies to: all, or one type (by contract or name), optionally one endpoint. */
export interface FaultTarget {
  type?: AnyContract | string;
  /** For `fail`: only deliveries to this endpoint. */
  endpoint?: string;
  /** How many matching messages the fault affects; default every one. */
  times?: number;
}

interface Held {
  send: () => Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface Rule<Extra> {
  target: FaultTarget;
  remaining: number;
  extra: Extra;
}

function typeOf(target: FaultTarget): string | undefined {
  return typeof target.type === 'string' ? target.type : target.type?.type;
}

function take<E>(rules: Rule<E>[], type: string | undefined, endpoint?: string): Rule<E> | undefined {
  const rule = rules.find(
    (r) =>
      r.remaining > 0 && (typeOf(r.target) === undefined || typeOf(r.target) === type) && (r.target.endpoint === undefined || r.target.endpoint === endpoint),
  );
  if (rule) rule.remaining -= 1;
  return rule;
}

/**
 * Injects the faults real brokers cause, so tests can prove handlers idempotent and order-tolerant:
 * duplicated, delayed and reordered deliveries, and deliveries that fail N times before the handler.
 */
export class FaultInjector {
  private readonly duplicates: Rule<{ copies: number }>[] = [];
  private readonly delays: Rule<{ ms: number }>[] = [];
  private readonly reorders: Rule<{ window: number; buffer: Held[] }>[] = [];
  private readonly failures: Rule<undefined>[] = [];

  /** Every matching message is delivered `copies` extra times (default 1), with the same id. */
  duplicate(target: FaultTarget & { copies?: number } = {}): this {
    this.duplicates.push({ target, remaining: target.times ?? Number.POSITIVE_INFINITY, extra: { copies: target.copies ?? 1 } });
    return this;
  }

  /** Every matching message reaches the broker `ms` later. */
  delay(target: FaultTarget & { ms: number }): this {
    this.delays.push({ target, remaining: target.times ?? Number.POSITIVE_INFINITY, extra: { ms: target.ms } });
    return this;
  }

  /**
   * Matching messages are held until `window` of them (default 2) have been published, then reach
   * the broker in reverse order. A partial window is released after 50 ms.
   */
  reorder(target: FaultTarget & { window?: number } = {}): this {
    this.reorders.push({ target, remaining: target.times ?? Number.POSITIVE_INFINITY, extra: { window: target.window ?? 2, buffer: [] } });
    return this;
  }

  /**
   * The first `times` (default 1) deliveries of matching messages fail before their handler with
   * `MAILROOM_ERR_TESTING_INJECTED_FAULT`, going through the endpoint's recoverability like any failure.
   */
  fail(target: FaultTarget = {}): this {
    this.failures.push({ target, remaining: target.times ?? 1, extra: undefined });
    return this;
  }

  /** Removes every fault; held reordered messages are released. */
  clear(): void {
    for (const rule of this.reorders) for (const held of rule.extra.buffer.splice(0)) void held.send().then(held.resolve, held.reject);
    this.duplicates.length = 0;
    this.delays.length = 0;
    this.reorders.length = 0;
    this.failures.length = 0;
  }

  /** @internal Publishes through the faults: returns once every copy reached `publish`. */
  async publish(message: OutgoingMessage, publish: (message: OutgoingMessage) => Promise<void>): Promise<void> {
    const type = message.headers[HeaderNames.type];
    const delay = take(this.delays, type);
    if (delay) await new Promise((resolve) => setTimeout(resolve, delay.extra.ms));
    const send = async () => {
      const duplicate = take(this.duplicates, type);
      const copies = 1 + (duplicate?.extra.copies ?? 0);
      for (let i = 0; i < copies; i++) await publish(message);
    };
    const reorder = take(this.reorders, type);
    return reorder ? this.hold(reorder, send) : send();
  }

  /** Holds `send` until the window is full (or 50 ms passed), then runs the held sends newest first, one after another. */
  private hold(rule: Rule<{ window: number; buffer: Held[] }>, send: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const buffer = rule.extra.buffer;
      buffer.push({ send, resolve, reject });
      const flush = async () => {
        for (const held of buffer.splice(0).reverse()) await held.send().then(held.resolve, held.reject);
      };
      if (buffer.length >= rule.extra.window) void flush();
      else setTimeout(() => void flush(), 50).unref?.();
    });
  }

  /** @internal The incoming middleware that injects failures for deliveries to `endpoint`. */
  middleware(endpoint: string): IncomingMiddleware {
    return async (ctx, next) => {
      if (take(this.failures, ctx.envelope.type, endpoint)) {
        throw new MailroomError(ErrorCodes.TESTING_INJECTED_FAULT, `Injected failure of ${ctx.envelope.type} at ${endpoint} (attempt ${ctx.attempt})`);
      }
      await next();
    };
  }
}
