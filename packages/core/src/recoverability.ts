import { ErrorCodes, isMailroomError, isUnrecoverable, MailroomError } from './errors.js';

/** What to do with a message whose handling failed. */
export type RecoverabilityAction = { readonly action: 'retry'; readonly delayMs: number } | { readonly action: 'dead-letter'; readonly reason: string };

/** Settings of the default recoverability policy. */
export interface RecoverabilityConfig {
  /** Retries right away after a failure, before any delayed retry. Default 3. */
  immediateRetries: number;
  /** Retries after a delay, once the immediate ones are spent. Default 3. */
  delayedRetries: number;
  /** Delay before the first delayed retry. Default 1000 ms. */
  initialDelayMs: number;
  /** Each next delayed retry waits this many times longer. Default 5. */
  factor: number;
  /** Upper bound of any delay. Default 5 minutes. */
  maxDelayMs: number;
  /** Random spread of a delay, as a fraction: 0.2 gives ±20 %. Default 0.2. */
  jitter: number;
}

/** The defaults: 3 immediate retries, then 3 delayed retries at about 1 s, 5 s and 25 s, then the dead-letter queue. */
export const defaultRecoverabilityConfig: Readonly<RecoverabilityConfig> = Object.freeze({
  immediateRetries: 3,
  delayedRetries: 3,
  initialDelayMs: 1000,
  factor: 5,
  maxDelayMs: 5 * 60_000,
  jitter: 0.2,
});

/** What the endpoint tells a policy besides the error: how the attempts so far ended. */
export interface RecoverabilityContext {
  /**
   * True when the handler threw (a clean failure). False when the endpoint asks before running a
   * handler again whose earlier attempts never failed cleanly (a crash, an expired lease, a stop
   * ended them): answering `dead-letter` then keeps a poison message that kills its process from
   * running again (the crash-loop guard); `error` is a `MAILROOM_ERR_HANDLER_FAILED` saying so.
   */
  readonly earlierAttemptsFailedCleanly: boolean;
}

/**
 * A pure function from (error, failed attempts so far, config) to an action. `failedAttempts`
 * counts this failure too, so it is 1 after the first failure. `context` says whether the
 * attempts failed cleanly (see {@link RecoverabilityContext}).
 */
export type RecoverabilityPolicy = (
  error: unknown,
  failedAttempts: number,
  config: RecoverabilityConfig,
  random?: () => number,
  context?: RecoverabilityContext,
) => RecoverabilityAction;

/**
 * The default policy. Errors marked unrecoverable (`UnrecoverableError`, decode and validation
 * errors) are dead-lettered at once with their own code as the reason. Otherwise: immediate
 * retries, then delayed retries with exponential backoff and jitter, then dead-letter with
 * reason `MAILROOM_ERR_HANDLER_FAILED`. Total attempts = 1 + immediateRetries + delayedRetries.
 */
export const defaultRecoverabilityPolicy: RecoverabilityPolicy = (error, failedAttempts, config, random = Math.random) => {
  if (isUnrecoverable(error)) {
    return { action: 'dead-letter', reason: isMailroomError(error) ? error.code : ErrorCodes.HANDLER_UNRECOVERABLE };
  }
  if (failedAttempts <= config.immediateRetries) return { action: 'retry', delayMs: 0 };
  const delayedRound = failedAttempts - config.immediateRetries;
  if (delayedRound <= config.delayedRetries) return { action: 'retry', delayMs: backoffDelay(delayedRound, config, random) };
  return { action: 'dead-letter', reason: ErrorCodes.HANDLER_FAILED };
};

/** The delay of the `round`-th delayed retry (1-based): initial × factor^(round-1), capped, with jitter. Never negative. */
export function backoffDelay(round: number, config: RecoverabilityConfig, random: () => number = Math.random): number {
  const base = Math.min(config.maxDelayMs, config.initialDelayMs * config.factor ** (round - 1));
  const spread = base * config.jitter * (random() * 2 - 1);
  return Math.max(0, Math.round(Math.min(config.maxDelayMs, base + spread)));
}

/**
 * Merges partial settings over the defaults and checks them. Throws `MAILROOM_ERR_ENDPOINT_CONFIG`
 * naming the bad setting.
 */
export function resolveRecoverabilityConfig(...layers: (Partial<RecoverabilityConfig> | undefined)[]): RecoverabilityConfig {
  const config: RecoverabilityConfig = { ...defaultRecoverabilityConfig };
  for (const layer of layers) if (layer) Object.assign(config, Object.fromEntries(Object.entries(layer).filter(([, v]) => v !== undefined)));
  const counts: (keyof RecoverabilityConfig)[] = ['immediateRetries', 'delayedRetries'];
  for (const key of counts) {
    if (!Number.isSafeInteger(config[key]) || config[key] < 0)
      throw configError(`recoverability.${key} must be a whole number >= 0, got ${String(config[key])}`);
  }
  for (const key of ['initialDelayMs', 'maxDelayMs'] as const) {
    if (!Number.isFinite(config[key]) || config[key] < 0)
      throw configError(`recoverability.${key} must be a number of milliseconds >= 0, got ${String(config[key])}`);
  }
  if (!Number.isFinite(config.factor) || config.factor < 1) throw configError(`recoverability.factor must be >= 1, got ${String(config.factor)}`);
  if (!Number.isFinite(config.jitter) || config.jitter < 0 || config.jitter > 1)
    throw configError(`recoverability.jitter must be between 0 and 1, got ${String(config.jitter)}`);
  return config;
}

function configError(message: string): MailroomError {
  return new MailroomError(ErrorCodes.ENDPOINT_CONFIG, message);
}
