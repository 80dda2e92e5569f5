import { pino } from 'pino';

/** The logging methods Mailroom uses: the subset of pino's logger (pino instances fit as they are). */
export interface Logger {
  trace(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/**
 * The logger used when none is given: pino to stdout, level from `MAILROOM_LOG_LEVEL`
 * (default `info`; `silent` turns it off).
 */
export function createDefaultLogger(name = 'mailroom'): Logger {
  return pino({ name, level: process.env.MAILROOM_LOG_LEVEL ?? 'info' });
}

/**
 * A logger that is `parent.child(bindings)`, created on its first use instead of up front: a
 * message whose handler never logs does not pay for a child logger (pino serializes the bindings
 * when a child is made). Every call is forwarded as given (same arguments) to that one child, so
 * the lines carry the same bindings as an eagerly made child's would. `bindings` must not change
 * after the call.
 */
export function lazyChild(parent: Logger, bindings: Record<string, unknown>): Logger {
  return new LazyChildLogger(parent, bindings);
}

class LazyChildLogger implements Logger {
  private made: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Record<string, unknown>,
  ) {}

  private get logger(): Logger {
    this.made ??= this.parent.child(this.bindings);
    return this.made;
  }

  trace(...args: Parameters<Logger['trace']>): void {
    this.logger.trace(...args);
  }
  debug(...args: Parameters<Logger['debug']>): void {
    this.logger.debug(...args);
  }
  info(...args: Parameters<Logger['info']>): void {
    this.logger.info(...args);
  }
  warn(...args: Parameters<Logger['warn']>): void {
    this.logger.warn(...args);
  }
  error(...args: Parameters<Logger['error']>): void {
    this.logger.error(...args);
  }
  child(bindings: Record<string, unknown>): Logger {
    return this.logger.child(bindings);
  }
}
