import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Waits until the 1-minute load average is below `threshold`, checking every minute for at most
 * `maxWaitMs`. Resolves with the load seen last and whether it fell below the threshold.
 */
export async function waitForLoad(threshold: number, maxWaitMs: number, log: (line: string) => void): Promise<{ load: number; settled: boolean }> {
  const deadline = Date.now() + maxWaitMs;
  for (;;) {
    const load = loadavg()[0] as number;
    if (load < threshold) return { load, settled: true };
    if (Date.now() >= deadline) {
      log(`load average ${load.toFixed(2)} is still above ${threshold}; running anyway (recorded in the results)`);
      return { load, settled: false };
    }
    log(`load average ${load.toFixed(2)} >= ${threshold}; checking again in a minute`);
    await sleep(Math.min(60_000, Math.max(1000, deadline - Date.now())));
  }
}
