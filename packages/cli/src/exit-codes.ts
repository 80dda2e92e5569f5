import { ErrorCodes, isMailroomError } from '@mailroom/core';
import { CliErrorCodes } from './errors.js';

/**
 * The exit codes of the `mailroom` command; stable, documented in docs/cli.md. Anything not
 * listed (a bug, an unexpected broker error) exits with `FAILURE`.
 */
export const ExitCodes = {
  /** The command did what it was asked. */
  OK: 0,
  /** An unexpected failure. */
  FAILURE: 1,
  /** Bad usage: unknown command or option, a malformed or missing argument. */
  USAGE: 2,
  /** The config file or the contracts lock file is missing or invalid. */
  CONFIG: 3,
  /** The transport URL is bad, the broker refused the credentials, the broker (or broker file) cannot be reached in time, or its adapter is not installed. */
  TRANSPORT: 4,
  /** A dead letter id does not exist (some replays may have succeeded: see the output). */
  NOT_FOUND: 5,
  /** `contracts check` found breaking changes. */
  BREAKING: 6,
  /** A purge was not confirmed; nothing was deleted. */
  NOT_CONFIRMED: 7,
  /** The generated AsyncAPI document is invalid. */
  INVALID_DOCUMENT: 8,
} as const;

/** One of {@link ExitCodes}. */
export type ExitCode = (typeof ExitCodes)[keyof typeof ExitCodes];

const byCode: Record<string, ExitCode> = {
  [CliErrorCodes.USAGE]: ExitCodes.USAGE,
  [CliErrorCodes.CONFIG_NOT_FOUND]: ExitCodes.CONFIG,
  [CliErrorCodes.CONFIG_INVALID]: ExitCodes.CONFIG,
  [CliErrorCodes.LOCK_NOT_FOUND]: ExitCodes.CONFIG,
  [CliErrorCodes.LOCK_INVALID]: ExitCodes.CONFIG,
  [ErrorCodes.ENDPOINT_CONFIG]: ExitCodes.CONFIG,
  [ErrorCodes.CONTRACT_DEFINITION]: ExitCodes.CONFIG,
  [CliErrorCodes.BROKER_FILE_NOT_FOUND]: ExitCodes.TRANSPORT,
  [CliErrorCodes.TIMEOUT]: ExitCodes.TRANSPORT,
  [ErrorCodes.TRANSPORT_URL]: ExitCodes.TRANSPORT,
  [ErrorCodes.TRANSPORT_ADAPTER_MISSING]: ExitCodes.TRANSPORT,
  [ErrorCodes.TRANSPORT_UNAVAILABLE]: ExitCodes.TRANSPORT,
  [ErrorCodes.TRANSPORT_CONFIG]: ExitCodes.TRANSPORT,
  [ErrorCodes.TRANSPORT_CLOSED]: ExitCodes.TRANSPORT,
  [ErrorCodes.TRANSPORT_UNSUPPORTED]: ExitCodes.TRANSPORT,
  // The adapters' own refusals (optional peer packages, so their codes are spelled out here).
  MAILROOM_ERR_RABBITMQ_ACCESS_REFUSED: ExitCodes.TRANSPORT,
  MAILROOM_ERR_RABBITMQ_TLS: ExitCodes.TRANSPORT,
  MAILROOM_ERR_NATS_AUTH: ExitCodes.TRANSPORT,
  [ErrorCodes.DEAD_LETTER_NOT_FOUND]: ExitCodes.NOT_FOUND,
  [CliErrorCodes.CONTRACTS_BREAKING]: ExitCodes.BREAKING,
  [CliErrorCodes.NOT_CONFIRMED]: ExitCodes.NOT_CONFIRMED,
  [CliErrorCodes.ASYNCAPI_INVALID]: ExitCodes.INVALID_DOCUMENT,
};

/** The exit code for an error: by its `MAILROOM_ERR_*` code, `FAILURE` for anything else. */
export function exitCodeFor(error: unknown): ExitCode {
  return isMailroomError(error) ? (byCode[error.code] ?? ExitCodes.FAILURE) : ExitCodes.FAILURE;
}
