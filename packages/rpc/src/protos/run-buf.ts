import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { delimiter, dirname } from 'node:path';
import { MailroomError } from '@mailroom/core';
import { RpcErrorCodes } from '../errors.js';

/** What one `buf` run printed, and its exit code. */
export interface BufRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const require = createRequire(import.meta.url);

function resolveTool(specifier: string, install: string): string {
  try {
    return require.resolve(specifier);
  } catch (cause) {
    throw new MailroomError(RpcErrorCodes.RPC_PROTOS, `${specifier} is not installed: npm install -D ${install}`, { cause });
  }
}

/**
 * Runs the `buf` CLI of the installed `@bufbuild/buf` (its binary comes in the platform's optional
 * dependency, no install script needed) in `cwd`, with the installed `protoc-gen-es` first on the
 * PATH so `buf.gen.yaml` can name it as `local: protoc-gen-es`. Resolves with the exit code and
 * output; throws `MAILROOM_ERR_RPC_PROTOS` when a tool is missing or cannot start.
 */
export async function runBuf(args: readonly string[], cwd: string): Promise<BufRun> {
  const buf = resolveTool('@bufbuild/buf/bin/buf', '@bufbuild/buf');
  const pluginDir = dirname(resolveTool('@bufbuild/protoc-gen-es/bin/protoc-gen-es', '@bufbuild/protoc-gen-es'));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [buf, ...args], {
      cwd,
      env: { ...process.env, PATH: `${pluginDir}${delimiter}${process.env.PATH ?? ''}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.once('error', (cause) => reject(new MailroomError(RpcErrorCodes.RPC_PROTOS, `buf ${args[0]} could not start: ${cause.message}`, { cause })));
    child.once('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}
