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
