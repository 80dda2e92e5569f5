import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

const LOCK_DIR = join(tmpdir(), 'mailroom-rabbitmq-test-locks');

/**
 * A lock between this package's test files, across processes: every file that uses RabbitMQ holds
 * it `shared`; the disruptive files (`*.disruptive.test.ts`: the restart and memory-alarm tests)
 * hold it `exclusive`, so none of this package's files runs while the broker is down. Within one
 * Vitest run the disruptive files already run alone, after every other file (vitest.config.ts);
 * the lock also covers two runs at once on one machine. Files announce themselves, then look for
 * the other kind (a crashed holder is ignored). Resolves with the release function.
 */
export async function brokerLock(mode: 'shared' | 'exclusive', timeoutMs = 300_000): Promise<() => void> {
  mkdirSync(LOCK_DIR, { recursive: true });
  const deadline = Date.now() + timeoutMs;
  const holders = (prefix: string) =>
    readdirSync(LOCK_DIR).filter((name) => {
      if (!name.startsWith(prefix)) return false;
      const pid = Number(name.split('-')[1]);
      if (pid === process.pid) return false;
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        rmSync(join(LOCK_DIR, name), { force: true }); // its process died
        return false;
      }
    });
  const mine = join(LOCK_DIR, `${mode === 'shared' ? 'reader' : 'writer'}-${process.pid}-${randomBytes(3).toString('hex')}`);
  for (;;) {
    if (Date.now() > deadline) throw new Error(`could not take the RabbitMQ test lock (${mode}) within ${timeoutMs} ms`);
    if (mode === 'exclusive' && holders('writer-').length > 0) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      continue;
    }
    writeFileSync(mine, '');
    if (mode === 'shared' && holders('writer-').length > 0) {
      rmSync(mine, { force: true });
      await new Promise((resolve) => setTimeout(resolve, 200));
      continue;
    }
    while (mode === 'exclusive' && holders('reader-').length > 0) {
      if (Date.now() > deadline) {
        rmSync(mine, { force: true });
        throw new Error(`other RabbitMQ test files kept running for ${timeoutMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return () => rmSync(mine, { force: true });
  }
}

/** Holds the shared {@link brokerLock} for the tests of the surrounding `describe` (or file). */
export function holdSharedBrokerLock(): void {
  let release: (() => void) | undefined;
  beforeAll(async () => {
    release = await brokerLock('shared');
  }, 310_000);
  afterAll(() => release?.());
}
