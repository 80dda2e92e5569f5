import { writeSync } from 'node:fs';
import type { Logger } from '@mailroom/core';
import { pino } from 'pino';
import { redactSecrets } from './redact-secrets.js';

/**
 * The logger the CLI hands to transports: pino on standard error (never standard output, which
 * stays clean for `--json`), silent unless `MAILROOM_LOG_LEVEL` asks for more (`debug`, `info`...).
 * Every line goes through `redactSecrets` with the given secrets (read at write time, so secrets
 * added later count) and is written synchronously, so nothing is lost when the command exits.
 */
export function createCliLogger(env: NodeJS.ProcessEnv, secrets: readonly string[]): Logger {
  const stream = { write: (line: string) => void writeSync(2, redactSecrets(line, secrets)) };
  return pino({ name: 'mailroom-cli', level: env.MAILROOM_LOG_LEVEL || 'silent' }, stream);
}
