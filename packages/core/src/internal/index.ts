/**
 * `@mailroom/core/internal`: helpers for transport and store authors. Not part of the API an
 * application uses; it changes with the adapters that use it (see docs/adapters.md).
 */

export { resolveDeliverAt, scheduledDelayMs } from '../schedule.js';
export { matchesFilter } from './dead-letter-filter.js';
export {
  checkDeadLetterFilter,
  checkPageFilter,
  compareDeadLetters,
  type DeadLetterPosition,
  decodeDeadLetterCursor,
  encodeDeadLetterCursor,
  type PageRequest,
  pageDeadLetters,
  selectDeadLetters,
} from './dead-letter-paging.js';
export {
  boundedText,
  deliveryLimitRequest,
  MAX_DEAD_LETTER_MESSAGE,
  MAX_DEAD_LETTER_STACK,
  plausibleDate,
  safeDeadLetterRequest,
} from './dead-letter-request.js';
export { headersFrom, headerValueString } from './header-values.js';
export { checkNumberOption, NON_NEGATIVE, type NumberRule, POSITIVE, WHOLE_FROM_1 } from './number-option.js';
export { type OutboxRow, orderingKeysOf, outboxRecordFromRow, selectInKeyOrder, unsentIdsByKey } from './outbox-rows.js';
export { assertNonNegative, assertPositiveInteger, assertSqlIdentifier } from './persistence-config.js';
export { ALREADY_SETTLED, claimSettle, LEASE_EXPIRED, settledError } from './settle-once.js';
export { type SqlDialect, SqlOperationStore, type SqlProgram, type SqlStep } from './sql-operation-store.js';
export { STORED_HEADERS_TEXT, storedHeaders } from './stored-headers.js';
export { backoff, exponentialDelay, settleWithin, sleep, withTimeout } from './timing.js';
export { type BatchFlush, type BatchResults, type ItemFailure, itemFailed, TurnBatcher, type TurnBatcherOptions } from './turn-batcher.js';
export { Waker, type WakerOptions } from './waker.js';
