import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { MailroomError } from '@mailroom/core';
import { RpcErrorCodes } from '../errors.js';
import { PROTOS_LOCK_FILE, type ProtoModule, protoModule } from './proto-module.js';
import { runBuf } from './run-buf.js';

/** What {@link checkProtos} found in one proto module; `ok` when every list is empty. */
export interface ProtosCheck {
  readonly dir: string;
  readonly ok: boolean;
  /** `buf lint` findings (`file:line:column:message`). */
  readonly lint: readonly string[];
  /** `buf breaking` findings against `protos.lock.json`, or why there is nothing to compare with. */
  readonly breaking: readonly string[];
  /** Generated files that differ from what the protos generate now, are missing, or are left over. */
  readonly stale: readonly string[];
}

async function filesUnder(root: string): Promise<string[]> {
  if (!existsSync(root)) return [];
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => relative(root, join(entry.parentPath, entry.name)));
}

function findings(output: string): string[] {
  return output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/**
 * Checks the proto module in `dir`, as `npm test` does: `buf lint`; `buf breaking` against the
 * committed `protos.lock.json` (a removed or renumbered field, a changed type, a removed method
 * or file is reported); and that the committed generated code is what the protos generate now
 * (generated into a temporary directory and compared file by file). Resolves with the findings;
 * throws `MAILROOM_ERR_RPC_PROTOS` only when buf cannot run (or fails other than by reporting findings).
 */
export async function checkProtos(dir: string): Promise<ProtosCheck> {
  const module = protoModule(dir);
  const [lint, breaking, stale] = await Promise.all([lintFindings(module), breakingFindings(module), staleFiles(module)]);
  return { dir: module.dir, ok: lint.length === 0 && breaking.length === 0 && stale.length === 0, lint, breaking, stale };
}

async function lintFindings(module: ProtoModule): Promise<string[]> {
  const run = await runBuf(['lint'], module.dir);
  if (run.code !== 0 && run.code !== 100) throw new MailroomError(RpcErrorCodes.RPC_PROTOS, `buf lint failed in ${module.dir}:\n${run.stderr}`);
  return findings(run.stdout);
}

async function breakingFindings(module: ProtoModule): Promise<string[]> {
  if (!existsSync(module.lockFile)) {
    return [`no ${PROTOS_LOCK_FILE} in ${module.dir}: write the released protos with lockProtos (npm run protos -- lock <dir>)`];
  }
  const run = await runBuf(['breaking', '--against', `${PROTOS_LOCK_FILE}#format=json`], module.dir);
  if (run.code !== 0 && run.code !== 100) throw new MailroomError(RpcErrorCodes.RPC_PROTOS, `buf breaking failed in ${module.dir}:\n${run.stderr}`);
  return findings(run.stdout);
}

async function staleFiles(module: ProtoModule): Promise<string[]> {
  const scratch = await mkdtemp(join(tmpdir(), 'mailroom-protos-'));
  const stale: string[] = [];
  try {
    const run = await runBuf(['generate', '-o', scratch], module.dir);
    if (run.code !== 0) throw new MailroomError(RpcErrorCodes.RPC_PROTOS, `buf generate failed in ${module.dir}:\n${run.stderr}${run.stdout}`);
    for (const out of module.outDirs) {
      const fresh = await filesUnder(join(scratch, out));
      const committed = new Set(await filesUnder(join(module.dir, out)));
      for (const file of fresh) {
        const path = join(out, file);
        if (!committed.has(file)) stale.push(`${path}: missing (run generateProtos)`);
        else if ((await readFile(join(scratch, out, file), 'utf8')) !== (await readFile(join(module.dir, out, file), 'utf8')))
          stale.push(`${path}: out of date`);
        committed.delete(file);
      }
      for (const file of committed) stale.push(`${join(out, file)}: no proto generates it any more`);
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return stale;
}
