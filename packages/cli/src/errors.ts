/**
 * The error codes of the `mailroom` command, besides core's. Each maps to an exit code (see
 * `exit-codes.ts`); `docs/errors.md` lists them all.
 */
export const CliErrorCodes = {
  /** A command-line argument or option is missing, unknown or malformed (exit code 2). */
  USAGE: 'MAILROOM_ERR_CLI_USAGE',
  /** No `mailroom.config.*` file was found, or the file `--config` names does not exist (exit code 3). */
  CONFIG_NOT_FOUND: 'MAILROOM_ERR_CLI_CONFIG_NOT_FOUND',
  /** The config file could not be loaded, or its default export does not describe a system (exit code 3). */
  CONFIG_INVALID: 'MAILROOM_ERR_CLI_CONFIG_INVALID',
  /** The contracts lock file (`contracts.lock.json`) does not exist: run `mailroom contracts snapshot` first (exit code 3). */
  LOCK_NOT_FOUND: 'MAILROOM_ERR_CLI_LOCK_NOT_FOUND',
  /** The contracts lock file is not valid JSON or not a lock file this version understands (exit code 3). */
  LOCK_INVALID: 'MAILROOM_ERR_CLI_LOCK_INVALID',
  /** The SQLite broker file a transport URL names does not exist; the CLI never creates one (exit code 4). */
  BROKER_FILE_NOT_FOUND: 'MAILROOM_ERR_CLI_BROKER_FILE_NOT_FOUND',
  /** A broker operation did not finish within `--timeout` (exit code 4). */
  TIMEOUT: 'MAILROOM_ERR_CLI_TIMEOUT',
  /** `mailroom contracts check` found breaking changes (exit code 6). */
  CONTRACTS_BREAKING: 'MAILROOM_ERR_CLI_CONTRACTS_BREAKING',
  /** A destructive command was not confirmed: answered no, or standard input is not a terminal and `--yes` was not given (exit code 7). */
  NOT_CONFIRMED: 'MAILROOM_ERR_CLI_NOT_CONFIRMED',
  /** The generated AsyncAPI document failed validation by @asyncapi/parser (exit code 8). */
  ASYNCAPI_INVALID: 'MAILROOM_ERR_CLI_ASYNCAPI_INVALID',
  /** An output file could not be written (exit code 1). */
  OUTPUT: 'MAILROOM_ERR_CLI_OUTPUT',
} as const;
