import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'mailroom-hello-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('examples/hello', () => {
  it('two services in separate processes exchange an event and a reply event', async () => {
    const start = join(import.meta.dirname, '..', 'src', 'start.ts');
    const { stdout } = await promisify(execFile)(process.execPath, ['--conditions=source', '--import', 'tsx', start, 'Ada', 'Linus'], {
      env: { ...process.env, MAILROOM_TRANSPORT: join(dir, 'hello.db'), MAILROOM_LOG_LEVEL: 'silent' },
      timeout: 60_000,
    });
    expect(stdout).toMatch(/caller: Ada -> "Hello, Ada!" \(from greeter pid \d+/);
    expect(stdout).toMatch(/caller: Linus -> "Hello, Linus!"/);
  }, 60_000);
});
