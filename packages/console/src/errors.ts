/** The error codes of `@mailroom/console`, besides core's and `@mailroom/http`'s. `docs/errors.md` lists them all. */
export const ConsoleErrorCodes = {
  /** A console option is missing or malformed (port, host, data directory, token). */
  CONSOLE_CONFIG: 'MAILROOM_ERR_CONSOLE_CONFIG',
  /** A destructive action (archive, purge) was sent without the confirm token the server issued for it, or with an expired or mismatched one (HTTP 428). */
  CONSOLE_CONFIRMATION_REQUIRED: 'MAILROOM_ERR_CONSOLE_CONFIRMATION_REQUIRED',
  /** An edited body is not valid JSON or does not satisfy the message's contract schema; nothing was sent (HTTP 422). */
  CONSOLE_EDIT_INVALID: 'MAILROOM_ERR_CONSOLE_EDIT_INVALID',
  /** A retry job id is unknown (HTTP 404). */
  CONSOLE_JOB_NOT_FOUND: 'MAILROOM_ERR_CONSOLE_JOB_NOT_FOUND',
  /** An archived letter id is unknown (HTTP 404). */
  CONSOLE_ARCHIVE_NOT_FOUND: 'MAILROOM_ERR_CONSOLE_ARCHIVE_NOT_FOUND',
} as const;
