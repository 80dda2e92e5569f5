import type { Logger } from '@mailroom/core';
import {
  type BulkheadPolicy,
  bulkhead,
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  decorrelatedJitterGenerator,
  ExponentialBackoff,
  handleWhen,
  type IPolicy,
  noop,
  retry,
  SamplingBreaker,
  type TimeoutPolicy,
  TimeoutStrategy,
  timeout,
  wrap,
} from 'cockatiel';
import type { ResolvedPolicyOptions } from './client-options.js';

/** The state of a target's circuit breaker, as in cockatiel. */
export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

/** A breaker state change of one target. */
export interface BreakerStateChange {
  readonly target: string;
  readonly state: BreakerState;
  readonly at: Date;
}

/** A handle that stops a listener (cockatiel's `IDisposable`). */
export interface Disposable {
  dispose(): void;
}

/** How a client reads the failures of its attempts: which ones retrying can fix, which ones say the target is unhealthy. */
export interface FailureClassifier {
  /** True when retrying the attempt later can succeed (the retry policy handles only these). */
  isTransient(error: unknown): boolean;
  /** True when the failure says the target is unhealthy, so the circuit breaker counts it. */
  countsAgainstBreaker(error: unknown): boolean;
}

/** One retry about to happen, as the retry policy reports it. */
export interface PolicyRetry {
  /** The retry number, 1 for the first retry. */
  readonly attempt: number;
  readonly delayMs: number;
  /** Why the previous attempt failed. */
  readonly error: unknown;
}

/**
 * The cockatiel policies of one target, shared by every call of its client: the bulkhead and the
 * circuit breaker hold state across calls; the retry policy is made per call. A caller that needs
 * cockatiel's per-attempt timeout (the RPC transport around a Connect transport of the user's) takes
 * it from {@link ResiliencePolicies.timeoutOf}; the HTTP client times its attempts itself.
 */
export interface ResiliencePolicies {
  /** The breaker state now (`closed` when the breaker is disabled). */
  readonly breakerState: BreakerState;
  /**
   * The policy a call runs through, outermost first: bulkhead, retry (only when `retryable`, with
   * `onRetry` told before each retry), circuit breaker. Each attempt inside it runs under a per-attempt timeout.
   */
  pipeline(retryable: boolean, onRetry?: (retry: PolicyRetry) => void): IPolicy;
  /** A per-attempt timeout of `ms` (`Aggressive`: rejects at once and aborts the attempt's signal); one shared policy for the settings' `timeoutMs`, made on first use. */
  timeoutOf(ms: number): TimeoutPolicy;
  /** Calls `listener` on every breaker state change; returns a handle that stops it. */
  onBreakerStateChange(listener: (change: BreakerStateChange) => void): Disposable;
}

const STATES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/** Cockatiel 3.2.1's `isTaskCancelledError` tests the wrong property; this checks the right one (a timeout policy's rejection). */
export function isTaskCancelled(error: unknown): boolean {
  return error instanceof Error && 'isTaskCancelledError' in error;
}

function makeTimeout(ms: number): TimeoutPolicy {
  // An attempt returns only after it has read its whole answer, so nothing is left to cancel when
  // it returns: abortOnReturn would only abort a finished request, and creating that AbortError
  // (a DOMException with a stack) cost about as much as the request itself (see BENCHMARKS.md).
  return timeout(ms, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false });
}

/**
 * Builds the cockatiel policies of one target from checked settings: a consecutive-failure or
 * sampling circuit breaker counting the failures `classifier.countsAgainstBreaker` accepts, a
 * bulkhead, retries with decorrelated-jitter exponential backoff for transient failures only, and an
 * aggressive per-attempt timeout. Logs breaker changes on `log` (a warning when it opens).
 * `@mailroom/http`'s client and `@mailroom/rpc`'s transport both run on it.
 */
export function createResiliencePolicies(name: string, settings: ResolvedPolicyOptions, classifier: FailureClassifier, log: Logger): ResiliencePolicies {
  const breakerSettings = settings.breaker;
  let breaker: CircuitBreakerPolicy | undefined;
  if (breakerSettings) {
    const kind =
      breakerSettings.failureRate !== undefined
        ? new SamplingBreaker({ threshold: breakerSettings.failureRate, duration: breakerSettings.windowMs, minimumRps: breakerSettings.minimumRps })
        : new ConsecutiveBreaker(breakerSettings.consecutiveFailures);
    breaker = circuitBreaker(
      handleWhen((error) => classifier.countsAgainstBreaker(error)),
      { halfOpenAfter: breakerSettings.halfOpenAfterMs, breaker: kind },
    );
  }
  const bulkheadPolicy: BulkheadPolicy | undefined = settings.bulkhead ? bulkhead(settings.bulkhead.limit, settings.bulkhead.queue) : undefined;
  let sharedTimeout: TimeoutPolicy | undefined;
  const inner: IPolicy[] = breaker ? [breaker] : [];
  const outer: IPolicy[] = bulkheadPolicy ? [bulkheadPolicy] : [];
  const withoutRetry: IPolicy = wrap(...outer, ...inner, noop);
  const retrySettings = settings.retry;
  const isTransient = handleWhen((error) => classifier.isTransient(error));

  const stateListeners = new Set<(change: BreakerStateChange) => void>();
  breaker?.onStateChange((state) => {
    const change: BreakerStateChange = { target: name, state: STATES[state], at: new Date() };
    if (change.state === 'open') log.warn({ state: change.state }, `circuit breaker of ${name} opened`);
    else log.info({ state: change.state }, `circuit breaker of ${name} is ${change.state}`);
    for (const listener of [...stateListeners]) listener(change);
  });

  return {
    get breakerState() {
      return breaker ? STATES[breaker.state] : 'closed';
    },
    timeoutOf: (ms) => (ms === settings.timeoutMs ? (sharedTimeout ??= makeTimeout(ms)) : makeTimeout(ms)),
    pipeline(retryable, onRetry) {
      if (!retryable || !retrySettings || retrySettings.retries === 0) return withoutRetry;
      // Stateless, so made per call: its events then know which call they are about.
      const retryPolicy = retry(isTransient, {
        maxAttempts: retrySettings.retries,
        backoff: new ExponentialBackoff({
          generator: decorrelatedJitterGenerator,
          initialDelay: retrySettings.initialDelayMs,
          maxDelay: retrySettings.maxDelayMs,
        }),
      });
      if (onRetry) retryPolicy.onRetry((event) => onRetry({ attempt: event.attempt, delayMs: event.delay, error: 'error' in event ? event.error : undefined }));
      return wrap(...outer, retryPolicy, ...inner, noop);
    },
    onBreakerStateChange(listener) {
      stateListeners.add(listener);
      return { dispose: () => stateListeners.delete(listener) };
    },
  };
}
