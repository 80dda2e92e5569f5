import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createEndpoint } from '@mailroom/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteTransport } from '../src/index.js';
import { WorkItem } from './fixtures/contracts.js';

const dir = mkdtempSync(join(tmpdir(), 'mailroom-sqlite-mp-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function startWorker(path: string, onHandled: (n: number) => void): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', join(import.meta.dirname, 'fixtures', 'worker.ts'), path, 'mp-workers'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, MAILROOM_LOG_LEVEL: 'silent' },
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (line === 'ready') resolve(child);
      else if (line.startsWith('handled ')) onHandled(Number(line.slice(8)));
    });
  });
}

describe('SQLite transport across processes', () => {
  it('loses nothing when one of two workers is killed with SIGKILL mid-run (10k messages)', async () => {
    const path = join(dir, 'broker.db');
    const total = 10_000;
    const handled = new Map<number, number>();
    const byWorker = [0, 0];
    const record = (worker: number) => (n: number) => {
      handled.set(n, (handled.get(n) ?? 0) + 1);
      byWorker[worker] = (byWorker[worker] ?? 0) + 1;
    };
    const workers = await Promise.all([startWorker(path, record(0)), startWorker(path, record(1))]);

    const transport = createSqliteTransport({ path });
    const publisher = createEndpoint({ name: 'mp-publisher', transport });
    const started = Date.now();
    let killedAt = -1;
    for (let n = 0; n < total; n += 500) {
      await Promise.all(Array.from({ length: 500 }, (_, i) => publisher.publish(WorkItem, { n: n + i })));
      if (killedAt < 0 && handled.size >= total / 3) {
        workers[0]?.kill('SIGKILL');
        killedAt = handled.size;
      }
    }
    const deadline = Date.now() + 60_000;
    while (handled.size < total && Date.now() < deadline) {
      if (killedAt < 0 && handled.size >= total / 3) {
        workers[0]?.kill('SIGKILL');
        killedAt = handled.size;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const elapsed = Date.now() - started;
    const lost = total - handled.size;
    const duplicates = [...handled.values()].reduce((sum, count) => sum + count - 1, 0);
    console.log(
      `[sqlite multi-process] ${total} messages, worker 0 killed (SIGKILL) after ${killedAt} handled; ` +
        `handled by worker0=${byWorker[0]} worker1=${byWorker[1]}; lost=${lost}, duplicates=${duplicates}, ${elapsed} ms`,
    );
    expect(killedAt).toBeGreaterThan(0);
    expect(lost).toBe(0);
    // Acknowledgements trail the "handled" lines, and leases of the killed worker run out after 1.5 s.
    let depth = -1;
    for (const until = Date.now() + 15_000; Date.now() < until; await new Promise((resolve) => setTimeout(resolve, 100))) {
      depth = (await transport.queues()).find((q) => q.endpoint === 'mp-workers')?.depth ?? -1;
      if (depth === 0) break;
    }
    expect(depth).toBe(0);
    workers[1]?.kill('SIGTERM');
    await transport.close();
  }, 120_000);
});
