// A CliIo that keeps what a command prints, for tests that call runCli in process.
import { PassThrough } from 'node:stream';
import type { CliIo } from '../src/cli-io.js';

/** A {@link CliIo} collecting stdout in `out` and stderr in `err`; no terminal, empty stdin. */
export function memoryIo(env: Record<string, string | undefined> = {}): CliIo & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    stdout: (text: string) => {
      io.out += text;
    },
    stderr: (text: string) => {
      io.err += text;
    },
    stdin: new PassThrough(),
    stdinIsTTY: false,
    stderrIsTTY: false,
    progressStream: new PassThrough(),
    env,
    cwd: process.cwd(),
  };
  return io;
}
