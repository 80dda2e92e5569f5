import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The exact command that starts the shared NATS server of a developer machine (and CI). */
export const START_COMMAND = [
  'start-stop-daemon',
  [
    '--start',
    '--oknodo',
    '--background',
    '--exec',
    '/usr/sbin/nats-server',
    '--',
    '-a',
    '127.0.0.1',
    '-p',
    '4222',
    '-js',
    '-sd',
    '/var/lib/nats-server',
    '-l',
    '/var/log/nats-server.log',
  ],
] as const;

/** The pid of the local nats-server serving port 4222, found in /proc; undefined when none runs here. */
export function findServerPid(): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const exe = readlinkSync(`/proc/${entry}/exe`);
      if (!exe.endsWith('/nats-server')) continue;
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const port = args[args.indexOf('-p') + 1];
      if (args.includes('-p') && port === '4222') return Number(entry);
    } catch {
      // Gone, or not ours to read.
    }
  }
  return undefined;
}

/** True when 127.0.0.1:4222 accepts a TCP connection within 500 ms. */
export function portAnswers(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: 4222 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Waits until the server's port answers; throws after `timeoutMs`. */
export async function waitForServer(timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await portAnswers())) {
    if (Date.now() > deadline) throw new Error(`nats-server did not answer on 127.0.0.1:4222 within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Kills the server process (SIGKILL, a crash) and waits until it is gone. */
export async function killServer(pid: number): Promise<void> {
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`nats-server ${pid} did not exit after SIGKILL`);
}

/** Starts the server with the machine's start command (a no-op when it runs) and waits until it answers. */
export async function startServer(): Promise<void> {
  if (await portAnswers()) return;
  const [command, args] = START_COMMAND;
  await run(command, [...args]);
  await waitForServer();
}
