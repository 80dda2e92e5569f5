/** Resolves after `ms` milliseconds; the timer does not keep the process alive. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Exponential delay without jitter: `initialMs` doubled per earlier attempt, the delay before retry
 * `attempt` (1-based; 0 or less gives `initialMs`), never above `maxMs`.
 */
export function exponentialDelay(attempt: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
}

/**
 * Exponential backoff with ±20 % jitter: the delay before retry `attempt` (1-based), never above
 * `maxMs`.
 */
export function backoff(attempt: number, initialMs: number, maxMs: number): number {
  return Math.round(Math.min(maxMs, exponentialDelay(attempt, initialMs, maxMs) * (0.8 + Math.random() * 0.4)));
}

/**
 * Settles like `promise`, or rejects with `onTimeout()` after `ms`; the loser is ignored, so a late
 * rejection of `promise` is never unhandled.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  if (!Number.isFinite(ms)) return promise;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), Math.max(0, ms));
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Waits for `promise` at most `ms`, never rejecting: for best-effort clean-up such as closing a channel. */
export async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  await withTimeout(promise, ms, () => new Error('timeout')).catch(() => undefined);
}
