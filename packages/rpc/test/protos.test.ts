// The proto module tools on the real buf CLI: this package's own protos pass (lint, no breaking
// change against protos.lock.json, generated code up to date), and a temporary copy shows the
// check failing on a breaking change, on stale generated code and on a lint finding.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { RpcErrorCodes } from '../src/index.js';
import { checkProtos, generateProtos, lockProtos, PROTOS_LOCK_FILE } from '../src/protos/index.js';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const PROTO = join('test', 'proto', 'mailroom', 'rpc', 'testing', 'v1', 'stock.proto');

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A copy of this package's proto module (configs, lock, protos, generated code) to break. */
async function copyModule(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mailroom-protos-test-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  for (const path of ['buf.yaml', 'buf.gen.yaml', PROTOS_LOCK_FILE, join('test', 'proto'), join('test', 'gen')]) {
    await cp(join(PACKAGE_DIR, path), join(dir, path), { recursive: true });
  }
  return dir;
}

async function edit(dir: string, change: (text: string) => string): Promise<void> {
  const path = join(dir, PROTO);
  const before = await readFile(path, 'utf8');
  const after = change(before);
  expect(after).not.toBe(before);
  await writeFile(path, after);
}

describe('checkProtos', () => {
  it("passes on this package's protos: lint clean, no breaking change against the lock, generated code up to date", async () => {
    expect(await checkProtos(PACKAGE_DIR)).toMatchObject({ ok: true, lint: [], breaking: [], stale: [] });
  });

  it('fails on a removed field, names it, and sees the generated code as stale until it is regenerated', { timeout: 120_000 }, async () => {
    const dir = await copyModule();
    await edit(dir, (text) => text.replace('  int32 remaining = 2;\n', ''));
    const broken = await checkProtos(dir);
    expect(broken.ok).toBe(false);
    expect(broken.breaking.join('\n')).toMatch(/Previously present field "2" with name "remaining" on message "ReserveResponse" was deleted/);
    expect(broken.stale).toEqual([join('test', 'gen', 'mailroom', 'rpc', 'testing', 'v1', 'stock_pb.ts: out of date')]);
    await generateProtos(dir);
    expect((await checkProtos(dir)).stale).toEqual([]);
    // Released on purpose: the lock moves, and the change is no longer reported.
    await lockProtos(dir);
    expect(await checkProtos(dir)).toMatchObject({ ok: true });
  });

  it('fails on a changed field type and on a renumbered field, and accepts an added field', { timeout: 120_000 }, async () => {
    const dir = await copyModule();
    await edit(dir, (text) =>
      text.replace('message ReserveRequest {\n  string sku = 1;\n  int32 quantity = 2;', 'message ReserveRequest {\n  string sku = 1;\n  int64 quantity = 3;'),
    );
    const broken = await checkProtos(dir);
    expect(broken.breaking.length).toBeGreaterThanOrEqual(1);
    expect(broken.breaking.join('\n')).toMatch(/ReserveRequest/);

    const other = await copyModule();
    await edit(other, (text) => text.replace('  int32 remaining = 2;\n', '  int32 remaining = 2;\n  string warehouse = 3;\n'));
    await generateProtos(other);
    expect(await checkProtos(other)).toMatchObject({ ok: true, breaking: [] });
  });

  it('reports lint findings, a missing lock, and a generated file no proto makes any more', async () => {
    const dir = await copyModule();
    await edit(dir, (text) => text.replace('service StockService {', 'service Stock {'));
    await rm(join(dir, PROTOS_LOCK_FILE));
    await writeFile(join(dir, 'test', 'gen', 'leftover_pb.ts'), 'export {};\n');
    const result = await checkProtos(dir);
    expect(result.lint.join('\n')).toMatch(/Service name "Stock" should be suffixed with "Service"/);
    expect(result.breaking).toEqual([expect.stringContaining(`no ${PROTOS_LOCK_FILE}`)]);
    expect(result.stale).toContain(join('test', 'gen', 'leftover_pb.ts: no proto generates it any more'));
  });

  it('throws MAILROOM_ERR_RPC_PROTOS for a directory that is not a proto module', async () => {
    await expect(checkProtos(tmpdir())).rejects.toMatchObject({ code: RpcErrorCodes.RPC_PROTOS });
  });
});
