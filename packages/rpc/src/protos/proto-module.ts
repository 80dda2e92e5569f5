import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MailroomError } from '@mailroom/core';
import { RpcErrorCodes } from '../errors.js';

/** The file, next to `buf.yaml`, holding the released protos: a buf image (JSON, no source info) that `buf breaking` compares against. */
export const PROTOS_LOCK_FILE = 'protos.lock.json';

/** A directory holding protos as this package's tools expect them. */
export interface ProtoModule {
  /** The absolute directory: it holds `buf.yaml`, `buf.gen.yaml` and the lock. */
  readonly dir: string;
  readonly lockFile: string;
  /** The `out` directories of `buf.gen.yaml`, relative to `dir`. */
  readonly outDirs: readonly string[];
}

/**
 * Reads the proto module in `dir`: a `buf.yaml` (v2) naming the proto directories, and a
 * `buf.gen.yaml` (v2) with its `inputs` and each plugin's `out`. Throws `MAILROOM_ERR_RPC_PROTOS`
 * saying which file is missing.
 */
export function protoModule(dir: string): ProtoModule {
  const absolute = resolve(dir);
  for (const file of ['buf.yaml', 'buf.gen.yaml']) {
    if (!existsSync(join(absolute, file)))
      throw new MailroomError(RpcErrorCodes.RPC_PROTOS, `${absolute} has no ${file}: a proto module needs buf.yaml and buf.gen.yaml`);
  }
  const template = readFileSync(join(absolute, 'buf.gen.yaml'), 'utf8');
  const outDirs = [...template.matchAll(/^\s*out:\s*["']?([^"'\s#]+)/gm)].map((match) => match[1] as string);
  if (outDirs.length === 0) throw new MailroomError(RpcErrorCodes.RPC_PROTOS, `${join(absolute, 'buf.gen.yaml')} names no plugin out directory`);
  return { dir: absolute, lockFile: join(absolute, PROTOS_LOCK_FILE), outDirs };
}
