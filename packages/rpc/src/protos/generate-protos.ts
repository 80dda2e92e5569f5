import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MailroomError } from '@mailroom/core';
import { RpcErrorCodes } from '../errors.js';
import { protoModule } from './proto-module.js';
import { runBuf } from './run-buf.js';

function failed(what: string, dir: string, output: string): MailroomError {
  return new MailroomError(RpcErrorCodes.RPC_PROTOS, `${what} failed in ${dir}:\n${output.trim()}`);
}

/**
 * Generates the TypeScript of the proto module in `dir` (`buf generate` with its `buf.gen.yaml`),
 * replacing the `out` directories so no file of a removed proto is left behind. Throws
 * `MAILROOM_ERR_RPC_PROTOS` with buf's output when it fails.
 */
export async function generateProtos(dir: string): Promise<void> {
  const module = protoModule(dir);
  for (const out of module.outDirs) await rm(join(module.dir, out), { recursive: true, force: true });
  const run = await runBuf(['generate'], module.dir);
  if (run.code !== 0) throw failed('buf generate', module.dir, run.stderr + run.stdout);
}

/**
 * Writes the lock of the proto module in `dir`: the current protos as a buf image (JSON, indented,
 * without source info or imports) in `protos.lock.json`, the baseline `checkProtos` compares
 * against. Run it when a version is released; a breaking change then fails the check. Resolves
 * with the lock's path.
 */
export async function lockProtos(dir: string): Promise<string> {
  const module = protoModule(dir);
  const run = await runBuf(['build', '--exclude-source-info', '--exclude-imports', '-o', `${module.lockFile}#format=json`], module.dir);
  if (run.code !== 0) throw failed('buf build', module.dir, run.stderr + run.stdout);
  const image = JSON.parse(await readFile(module.lockFile, 'utf8')) as unknown;
  await writeFile(module.lockFile, `${JSON.stringify(image, null, 2)}\n`);
  return module.lockFile;
}
