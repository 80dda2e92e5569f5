import { setTimeout as sleep } from 'node:timers/promises';

/** Runs `send(i)` for i in [0, count) with at most `window` calls awaiting at once (a closed loop). */
export async function runWindowed(count: number, window: number, send: (index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      await send(index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(window, count)) }, worker));
}

/**
 * Calls `send(i)` for i in [0, count) at a fixed rate (an open loop: message i is due at
 * start + i / rate, whether or not earlier sends resolved). Resolves once every send settled;
 * rejects with the first failure.
 */
export async function runPaced(count: number, ratePerSecond: number, send: (index: number) => Promise<unknown>): Promise<void> {
  const intervalMs = 1000 / ratePerSecond;
  const start = performance.now();
  const pending: Promise<unknown>[] = [];
  let failure: unknown;
  for (let index = 0; index < count; ) {
    const due = start + index * intervalMs;
    const wait = due - performance.now();
    if (wait >= 1) await sleep(Math.floor(wait));
    else if (wait > 0) await new Promise((resolve) => setImmediate(resolve));
    const now = performance.now();
    while (index < count && start + index * intervalMs <= now) {
      pending.push(
        send(index).catch((error: unknown) => {
          failure ??= error;
        }),
      );
      index++;
    }
    if (failure !== undefined) break;
  }
  await Promise.all(pending);
  if (failure !== undefined) throw failure;
}
