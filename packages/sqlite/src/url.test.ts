import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTransportFromUrl } from './url.js';

const dir = mkdtempSync(join(tmpdir(), 'mailroom-sqlite-url-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('createTransportFromUrl', () => {
  it('takes every option of the options table from the query, as docs/sqlite.md says', async () => {
    const path = join(dir, 'broker.db');
    const transport = await createTransportFromUrl(`sqlite:${path}?synchronous=full&leaseMs=10000&pollIntervalMs=250&busyTimeoutMs=1234`);
    try {
      expect((transport as typeof transport & { path: string }).path).toBe(path);
    } finally {
      await transport.close();
    }
    await expect(createTransportFromUrl(`sqlite:${path}?busyTimeoutMs=soon`)).rejects.toThrow(/busyTimeoutMs must be a number > 0/);
  });
});
