// Runs the real `mailroom` executable in a child process: the TypeScript entry through tsx (no build needed),
// or the built dist/bin.js when `built` is set.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** What a `mailroom` run printed and how it exited. */
export interface MailroomRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Where the package lives. */
export const cliRoot = join(import.meta.dirname, '..');
// tsx by absolute URL, so a run from any working directory (a temporary project) finds it.
const tsxLoader = pathToFileURL(join(cliRoot, '..', '..', 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

/** Options of {@link mailroom}. */
export interface MailroomRunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Run dist/bin.js instead of src/bin.ts. */
  built?: boolean;
}

/** Runs `mailroom ...args` and resolves when it exits. Standard input is /dev/null (not a terminal), as in CI. */
export function mailroom(args: readonly string[], options: MailroomRunOptions = {}): Promise<MailroomRun> {
  const entry = options.built ? [join(cliRoot, 'dist', 'bin.js')] : ['--conditions=source', '--import', tsxLoader, join(cliRoot, 'src', 'bin.ts')];
  const env: Record<string, string | undefined> = { ...process.env, MAILROOM_LOG_LEVEL: 'silent', MAILROOM_TRANSPORT: undefined, ...options.env };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  const child = spawn(process.execPath, [...entry, ...args], { cwd: options.cwd ?? cliRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
