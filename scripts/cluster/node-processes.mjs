/**
 * Process and port helpers shared by the cluster scripts (rabbitmq-cluster.mjs, nats-cluster.mjs):
 * free port blocks, detached server processes with pid files, waiting, killing.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Resolves after `ms`. */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** True when nothing listens on 127.0.0.1:`port` (binding it succeeds). */
export function portFree(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** True when 127.0.0.1:`port` accepts a TCP connection within 500 ms. */
export function portAnswers(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * A base port `b` in [`from`, `to`) such that `b + offset` is free for every offset: random tries,
 * so parallel runs rarely collide. Throws after 200 tries.
 */
export async function findFreeBase(offsets, from = 30_000, to = 45_000) {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = from + Math.floor(Math.random() * (to - from));
    let free = true;
    for (const offset of offsets) {
      if (!(await portFree(base + offset))) {
        free = false;
        break;
      }
    }
    if (free) return base;
  }
  throw new Error(`no free block of ports for offsets ${offsets.join(',')} in ${from}-${to}`);
}

/** True while a process with this pid exists (and is not a zombie we could reap). */
export function alive(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** The pid in a pid file, or undefined when the file is missing or empty. */
export function readPid(file) {
  if (!existsSync(file)) return undefined;
  const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Starts `command` in its own session (it outlives this process), its output appended to
 * `logFile`. Returns its pid.
 */
export function spawnDetached(command, args, { env, logFile, cwd }) {
  const out = openSync(logFile, 'a');
  const child = spawn(command, args, { env, cwd, detached: true, stdio: ['ignore', out, out] });
  child.unref();
  return child.pid;
}

/** Polls `check` (sync or async) every `everyMs` until it returns true; throws naming `what` after `timeoutMs`. */
export async function waitFor(check, timeoutMs, what, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Sends `signal` to `pid` and waits until it is gone; SIGKILLs it when it outlives `timeoutMs`. */
export async function killAndWait(pid, signal = 'SIGTERM', timeoutMs = 30_000) {
  if (!alive(pid)) return;
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (alive(pid)) {
    if (Date.now() > deadline && signal !== 'SIGKILL') {
      process.kill(pid, 'SIGKILL');
      signal = 'SIGKILL';
    }
    await sleep(20);
  }
}

/** Parses `--name value` pairs after the command word of a CLI call. */
export function parseFlags(argv) {
  const flags = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) continue;
    flags[arg.slice(2)] = argv[i + 1];
    i++;
  }
  return flags;
}

const OWNER_FILE = 'owner.pid';

/**
 * A new directory under the system temp dir for a test's cluster, owned by this process. Before
 * making it, stops (with `stop({ dir })`) and deletes the clusters of earlier runs under the same
 * prefix whose owner process is gone: a test killed before its clean-up leaves no servers running.
 */
export async function ownedTempDir(prefix, stop) {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(prefix)) continue;
    const dir = join(tmpdir(), name);
    const owner = readPid(join(dir, OWNER_FILE));
    if (owner !== undefined && alive(owner)) continue;
    await stop({ dir }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(dir, OWNER_FILE), String(process.pid));
  return dir;
}
