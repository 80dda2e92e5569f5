import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const SHOP_DIR = fileURLToPath(new URL('../..', import.meta.url));
const START = fileURLToPath(new URL('../../src/start.ts', import.meta.url));
const VITE = fileURLToPath(new URL('../../../../node_modules/vite/bin/vite.js', import.meta.url));
const TSC = fileURLToPath(new URL('../../../../node_modules/typescript/bin/tsc', import.meta.url));

/** Settings that keep the shop fast under test: short retry delays and backoffs, a free port, quiet logs kept for failures. */
export const FAST_SETTINGS: NodeJS.ProcessEnv = {
  PORT: '0',
  SHOP_IMMEDIATE_RETRIES: '1',
  SHOP_DELAYED_RETRIES: '1',
  SHOP_RETRY_DELAY_MS: '100',
  SHOP_BREAKER_HALF_OPEN_MS: '500',
  SHOP_RESTART_DELAY_MS: '100',
  SHOP_POISON_FAULT: 'on',
  NO_COLOR: '1',
  MAILROOM_LOG_LEVEL: 'info',
};

/** Type-checks the web UI and builds it with Vite into `outDir`: what `npm run build:ui` does, into another directory. */
export async function buildUi(outDir: string): Promise<void> {
  const run = promisify(execFile);
  await run(process.execPath, [TSC, '-p', 'ui/tsconfig.json'], { cwd: SHOP_DIR, timeout: 120_000 }).catch((error: { stdout?: string }) => {
    throw new Error(`the web UI does not type-check:\n${error.stdout ?? String(error)}`);
  });
  await run(process.execPath, [VITE, 'build', '--config', 'ui/vite.config.ts', '--outDir', outDir, '--emptyOutDir'], { cwd: SHOP_DIR, timeout: 120_000 });
}

/** A shop started by its supervisor, as `npm start` does (from the TypeScript sources). */
export interface RunningShop {
  readonly url: string;
  /** Everything the supervisor printed so far (the prefixed logs of every service). */
  logs(): string;
  /** SIGTERM to the supervisor, which stops every service; resolves with its exit code once it exited. */
  stop(): Promise<number | null>;
}

/** Starts the shop with `env` over the current environment (and `args`, as after `npm start --`) and resolves once it printed its URL. */
export async function startShop(env: NodeJS.ProcessEnv, timeoutMs = 120_000, args: readonly string[] = []): Promise<RunningShop> {
  const child: ChildProcess = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', START, ...args], {
    env: { ...process.env, ...FAST_SETTINGS, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  const url = await new Promise<string>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`the shop did not print its URL within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const check = () => {
      const match = /The shop is ready: (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(deadline);
        resolve(match[1] as string);
      }
    };
    child.stdout?.on('data', check);
    void exited.then(() => {
      clearTimeout(deadline);
      reject(new Error(`the shop exited before it was ready:\n${output}`));
    });
  }).catch(async (error) => {
    await stop();
    throw error;
  });
  return { url, logs: () => output, stop };
}

/** Runs the shop as `npm start` does (with `args`) until it exits by itself; resolves with its exit code and output, or rejects after `timeoutMs`. */
export async function runShopToExit(
  env: NodeJS.ProcessEnv,
  args: readonly string[] = [],
  timeoutMs = 60_000,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', START, ...args], {
    env: { ...process.env, ...FAST_SETTINGS, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString('utf8');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the shop did not exit within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
