import { type ErrorCode, ErrorCodes, MailroomError } from '../errors.js';
import { checkNumberOption, NON_NEGATIVE, WHOLE_FROM_1 } from './number-option.js';

/**
 * Checks a persistence option is a whole number >= 1 and returns it; otherwise throws
 * `MAILROOM_ERR_PERSISTENCE_CONFIG` naming the option.
 */
export function assertPositiveInteger(value: unknown, name: string): number {
  return checkNumberOption(value, name, WHOLE_FROM_1, persistenceConfigError);
}

/** Checks a persistence option is a finite number >= 0 and returns it; otherwise throws `MAILROOM_ERR_PERSISTENCE_CONFIG`. */
export function assertNonNegative(value: unknown, name: string): number {
  return checkNumberOption(value, name, NON_NEGATIVE, persistenceConfigError);
}

function persistenceConfigError(message: string): MailroomError {
  return new MailroomError(ErrorCodes.PERSISTENCE_CONFIG, message);
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,39}$/;

/**
 * Checks a table prefix or schema name is a plain lower-case SQL identifier (letters, digits,
 * `_`, at most 40 characters; a prefix may also be empty) and returns it, so it can be put in SQL
 * unquoted; otherwise throws a `MailroomError` with `code` (default `MAILROOM_ERR_PERSISTENCE_CONFIG`).
 */
export function assertSqlIdentifier(value: unknown, name: string, allowEmpty = false, code: ErrorCode = ErrorCodes.PERSISTENCE_CONFIG): string {
  if (typeof value !== 'string' || !((allowEmpty && value === '') || IDENTIFIER.test(value))) {
    throw new MailroomError(
      code,
      `${name} must be lower-case letters, digits and '_' (starting with a letter or '_', at most 40 characters), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}
