import { ErrorCodes } from '../errors.js';
import type { DeadLetterRequest } from '../transport.js';

/** Longest error message a dead-letter request carries (characters); longer ones are cut, marked. */
export const MAX_DEAD_LETTER_MESSAGE = 8192;
/** Longest error stack a dead-letter request carries (characters). */
export const MAX_DEAD_LETTER_STACK = 16_384;
/** Longest reason (characters); reasons are `MAILROOM_ERR_*` codes, or a custom policy's own word. */
const MAX_REASON = 200;
/** Latest accepted failure time, from now: clocks of several machines differ a little, never by a day. */
const FUTURE_SLACK_MS = 24 * 60 * 60 * 1000;

/**
 * The date `value` stands for when it is a real point in time between 1970 and a day from now;
 * undefined for anything else (an invalid Date, a number out of range, a header a hostile producer
 * forged). A date that passes never makes `toISOString()` throw.
 */
export function plausibleDate(value: unknown, now = Date.now()): Date | undefined {
  const ms =
    value instanceof Date ? value.getTime() : typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  return Number.isFinite(ms) && ms >= 0 && ms <= now + FUTURE_SLACK_MS ? new Date(ms) : undefined;
}

/** `text` cut to at most `max` characters, the cut marked with how much was left out. */
export function boundedText(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [${text.length - max} more characters cut]`;
}

/**
 * A dead-letter request every transport can store: dates real and in order (a bad first-failure
 * time becomes the last failure time), attempts a whole number >= 1, texts bounded, control
 * characters other than line breaks and tabs removed from the reason. Never throws, whatever
 * the request holds.
 */
export function safeDeadLetterRequest(request: DeadLetterRequest, now = new Date()): DeadLetterRequest {
  const last = plausibleDate(request.lastFailureAt, now.getTime()) ?? now;
  const first = plausibleDate(request.firstFailureAt, now.getTime());
  const reason = typeof request.reason === 'string' && request.reason.trim() !== '' ? request.reason : ErrorCodes.HANDLER_FAILED;
  const errorMessage = typeof request.errorMessage === 'string' ? request.errorMessage : String(request.errorMessage);
  return {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
    reason: boundedText(reason.replace(/[\u0000-\u001f\u007f]/g, ' '), MAX_REASON),
    errorMessage: boundedText(errorMessage, MAX_DEAD_LETTER_MESSAGE),
    errorStack: typeof request.errorStack === 'string' ? boundedText(request.errorStack, MAX_DEAD_LETTER_STACK) : undefined,
    attempts: Number.isSafeInteger(request.attempts) && request.attempts >= 1 ? request.attempts : 1,
    firstFailureAt: first !== undefined && first.getTime() <= last.getTime() ? first : last,
    lastFailureAt: last,
  };
}

/**
 * The dead-letter request of a message a transport parks by itself because it was delivered
 * `attempt` times, more than the subscription's `maxDeliveries`, without being settled for good.
 */
export function deliveryLimitRequest(attempt: number, maxDeliveries: number, firstFailureAt: Date | undefined, now = new Date()): DeadLetterRequest {
  return safeDeadLetterRequest(
    {
      reason: ErrorCodes.TRANSPORT_DELIVERY_LIMIT,
      errorMessage: `Delivered ${attempt} times, more than maxDeliveries (${maxDeliveries}), without being acknowledged, retried or dead-lettered for good (a handler that crashed its process, or dead-lettering that kept failing); parked by the transport without running the handler again`,
      errorStack: undefined,
      attempts: attempt,
      firstFailureAt: firstFailureAt ?? now,
      lastFailureAt: now,
    },
    now,
  );
}
