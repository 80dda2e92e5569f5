/**
 * Every error Mailroom throws or records carries a stable code from this table.
 * The same table is documented in `docs/errors.md`; a test keeps the two in step.
 */
export const ErrorCodes = {
  /** A payload did not match its contract's schema (on publish: thrown; on consume: dead-lettered). */
  CONTRACT_VALIDATION: 'MAILROOM_ERR_CONTRACT_VALIDATION',
  /** A message arrived with a type the endpoint has no handler for. */
  CONTRACT_UNKNOWN_TYPE: 'MAILROOM_ERR_CONTRACT_UNKNOWN_TYPE',
  /** A message arrived with a version newer than the consumer's contract knows. */
  CONTRACT_UNKNOWN_VERSION: 'MAILROOM_ERR_CONTRACT_UNKNOWN_VERSION',
  /** An older version has no upcaster, or an upcaster threw. */
  CONTRACT_UPCAST_FAILED: 'MAILROOM_ERR_CONTRACT_UPCAST_FAILED',
  /** A contract definition is malformed (bad type name, version, or upcaster chain). */
  CONTRACT_DEFINITION: 'MAILROOM_ERR_CONTRACT_DEFINITION',
  /** A body or header set is larger than the configured limit. */
  CODEC_TOO_LARGE: 'MAILROOM_ERR_CODEC_TOO_LARGE',
  /** A body is not valid JSON, or carries `__proto__` / `constructor.prototype` keys. */
  CODEC_MALFORMED: 'MAILROOM_ERR_CODEC_MALFORMED',
  /** A body could not be serialized (cycles, BigInt, functions). */
  CODEC_UNSERIALIZABLE: 'MAILROOM_ERR_CODEC_UNSERIALIZABLE',
  /** Required CloudEvents headers are missing or malformed. */
  ENVELOPE_INVALID: 'MAILROOM_ERR_ENVELOPE_INVALID',
  /** A handler kept failing until the recoverability policy gave up. */
  HANDLER_FAILED: 'MAILROOM_ERR_HANDLER_FAILED',
  /** A handler threw an {@link UnrecoverableError}: dead-lettered without retries. */
  HANDLER_UNRECOVERABLE: 'MAILROOM_ERR_HANDLER_UNRECOVERABLE',
  /** An endpoint option or handler registration is invalid. */
  ENDPOINT_CONFIG: 'MAILROOM_ERR_ENDPOINT_CONFIG',
  /** An endpoint method was called in a state that does not allow it (e.g. `on` after `start`). */
  ENDPOINT_STATE: 'MAILROOM_ERR_ENDPOINT_STATE',
  /** The broker could not be reached within the configured time. */
  TRANSPORT_UNAVAILABLE: 'MAILROOM_ERR_TRANSPORT_UNAVAILABLE',
  /** The transport was closed; the operation did not happen. */
  TRANSPORT_CLOSED: 'MAILROOM_ERR_TRANSPORT_CLOSED',
  /** The broker did not confirm a publish in time; the message may or may not be stored. */
  TRANSPORT_CONFIRM_TIMEOUT: 'MAILROOM_ERR_TRANSPORT_CONFIRM_TIMEOUT',
  /** The broker refused a publish (nack, unroutable, or rejected). */
  TRANSPORT_PUBLISH_REJECTED: 'MAILROOM_ERR_TRANSPORT_PUBLISH_REJECTED',
  /** A transport URL is malformed or names an unsupported scheme. */
  TRANSPORT_URL: 'MAILROOM_ERR_TRANSPORT_URL',
  /** The package implementing a transport URL's scheme is not installed. */
  TRANSPORT_ADAPTER_MISSING: 'MAILROOM_ERR_TRANSPORT_ADAPTER_MISSING',
  /** A transport option is invalid. */
  TRANSPORT_CONFIG: 'MAILROOM_ERR_TRANSPORT_CONFIG',
  /** A delivery was settled twice, or after its lease was lost. */
  TRANSPORT_SETTLED: 'MAILROOM_ERR_TRANSPORT_SETTLED',
  /** No dead letter has that id. */
  DEAD_LETTER_NOT_FOUND: 'MAILROOM_ERR_DEAD_LETTER_NOT_FOUND',
  /** A dead-letter page cursor is malformed, or was handed out by another transport or for another order. */
  DEAD_LETTER_CURSOR_INVALID: 'MAILROOM_ERR_DEAD_LETTER_CURSOR_INVALID',
  /** A dead-letter filter value is invalid: a limit outside 1..1000 for a page, an invalid date, an unknown order. */
  DEAD_LETTER_FILTER_INVALID: 'MAILROOM_ERR_DEAD_LETTER_FILTER_INVALID',
  /**
   * Moving a message to the dead-letter queue failed (logged at error level, with the message id
   * and the reason it was being dead-lettered for). The message stays in its queue; once its
   * deliveries pass `maxDeliveries` the transport parks it with `MAILROOM_ERR_TRANSPORT_DELIVERY_LIMIT`.
   */
  DEAD_LETTER_FAILED: 'MAILROOM_ERR_DEAD_LETTER_FAILED',
  /**
   * A message was delivered more than `maxDeliveries` times without being settled for good (its
   * handler kept crashing the process, or dead-lettering it kept failing): the transport parked it
   * in the dead-letter queue by a path of its own, without running the handler again.
   */
  TRANSPORT_DELIVERY_LIMIT: 'MAILROOM_ERR_TRANSPORT_DELIVERY_LIMIT',
  /** The transport does not offer the requested capability. */
  TRANSPORT_UNSUPPORTED: 'MAILROOM_ERR_TRANSPORT_UNSUPPORTED',
  /**
   * The scheduling options of a publish are invalid: both `deliverAt` and `delayMs` given, a delay
   * that is negative or not a finite number, or a `deliverAt` that is not a valid `Date`.
   */
  SCHEDULE_INVALID: 'MAILROOM_ERR_SCHEDULE_INVALID',
  /** A message was scheduled further ahead than the transport's `maxScheduleDelayMs` capability allows. */
  SCHEDULE_TOO_FAR: 'MAILROOM_ERR_SCHEDULE_TOO_FAR',
  /** `harness.waitFor` timed out. */
  TESTING_TIMEOUT: 'MAILROOM_ERR_TESTING_TIMEOUT',
  /** A fault injected by the testing harness. */
  TESTING_INJECTED_FAULT: 'MAILROOM_ERR_TESTING_INJECTED_FAULT',
  /** An outbox, inbox, relay or persistence option is invalid (table prefix, retention, batch size...). */
  PERSISTENCE_CONFIG: 'MAILROOM_ERR_PERSISTENCE_CONFIG',
  /** The database holds Mailroom tables of a newer schema version than this package knows, or a migration failed. */
  PERSISTENCE_SCHEMA: 'MAILROOM_ERR_PERSISTENCE_SCHEMA',
  /** An outbox or inbox write was attempted outside an open transaction of the service's database. */
  PERSISTENCE_NO_TRANSACTION: 'MAILROOM_ERR_PERSISTENCE_NO_TRANSACTION',
  /** A persistence method was called in a state that does not allow it (e.g. started twice by two endpoints). */
  PERSISTENCE_STATE: 'MAILROOM_ERR_PERSISTENCE_STATE',
  /** An operation store, tracker or route option is invalid (a missing connection, a malformed table prefix or schema, intervals). */
  OPERATION_CONFIG: 'MAILROOM_ERR_OPERATION_CONFIG',
  /** A saga definition is malformed (missing correlation or handler for a contract, bad name, unknown timeout), or a saga was registered where it cannot run (no saga store). */
  SAGA_DEFINITION: 'MAILROOM_ERR_SAGA_DEFINITION',
  /**
   * Another message changed the same saga instance first (its version moved on, or it was started
   * twice at once): the change was rolled back and the message is retried by the recoverability
   * policy (an immediate retry), which then sees the fresh state.
   */
  SAGA_CONFLICT: 'MAILROOM_ERR_SAGA_CONFLICT',
  /**
   * A message correlates to no saga instance and does not start one. Dead-lettered by default;
   * a saga defined with `onNotStarted: 'ignore'` acknowledges such messages with a debug log, one with `onNotStarted: 'retry'` retries them (a message that overtook the one starting its instance).
   */
  SAGA_NOT_STARTED: 'MAILROOM_ERR_SAGA_NOT_STARTED',
  /** A saga's state failed its state schema when loaded or saved (the change is rolled back and the message dead-lettered). */
  SAGA_STATE_INVALID: 'MAILROOM_ERR_SAGA_STATE_INVALID',
} as const;

/** One of the stable `MAILROOM_ERR_*` codes. Packages outside core add their own codes as strings of the same form. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes] | `MAILROOM_ERR_${string}`;

const brand = Symbol.for('mailroom.error');

/** Options shared by every Mailroom error. */
export interface MailroomErrorOptions {
  cause?: unknown;
  /** When true the recoverability policy dead-letters at once instead of retrying. */
  unrecoverable?: boolean;
  /** Structured details (field issues, limits, the failing target); never contains secrets. */
  details?: Record<string, unknown>;
}

/**
 * The base class of every error Mailroom throws. It carries a stable `code`, optional `details`,
 * and the `cause`. Detect it with {@link isMailroomError}, which works across duplicate package copies.
 */
export class MailroomError extends Error {
  override readonly name: string = 'MailroomError';
  readonly code: ErrorCode;
  readonly unrecoverable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: MailroomErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.unrecoverable = options.unrecoverable ?? false;
    this.details = options.details;
    Object.defineProperty(this, brand, { value: true });
  }
}

/**
 * Throw this from a handler when retrying cannot help (a business rule says no, a payload is
 * semantically wrong). The message is dead-lettered at once with reason `MAILROOM_ERR_HANDLER_UNRECOVERABLE`.
 */
export class UnrecoverableError extends MailroomError {
  override readonly name = 'UnrecoverableError';
  constructor(message: string, options: Omit<MailroomErrorOptions, 'unrecoverable'> = {}) {
    super(ErrorCodes.HANDLER_UNRECOVERABLE, message, { ...options, unrecoverable: true });
  }
}

/**
 * True when `error` is a Mailroom error (optionally with the given code). Uses a global symbol brand,
 * so it holds even when two copies of `@mailroom/core` are loaded.
 */
export function isMailroomError(error: unknown, code?: ErrorCode): error is MailroomError {
  if (typeof error !== 'object' || error === null || !(brand in error)) return false;
  return code === undefined || (error as unknown as MailroomError).code === code;
}

/** True when `error` asks not to be retried: an {@link UnrecoverableError} or any Mailroom error marked unrecoverable. */
export function isUnrecoverable(error: unknown): boolean {
  return isMailroomError(error) && error.unrecoverable;
}

/** Reads a message from anything thrown, without trusting its shape. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}
