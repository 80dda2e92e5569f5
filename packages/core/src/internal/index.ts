/**
 * `@mailroom/core/internal`: helpers for transport and store authors. Not part of the API an
 * application uses; it changes with the adapters that use it (see docs/adapters.md).
 */

export { resolveDeliverAt, scheduledDelayMs } from '../schedule.js';
export {
  boundedText,
  deliveryLimitRequest,
  MAX_DEAD_LETTER_MESSAGE,
  MAX_DEAD_LETTER_STACK,
  plausibleDate,
  safeDeadLetterRequest,
} from './dead-letter-request.js';
export { headersFrom, headerValueString } from './header-values.js';
export { STORED_HEADERS_TEXT, storedHeaders } from './stored-headers.js';
