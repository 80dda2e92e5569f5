import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

/** Where Debian's nats-server lives. */
export const NATS_SERVER = '/usr/sbin/nats-server';

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * A nats-server of the test's own (JetStream, a random loopback port, a store directory of its own),
 * so a test can stop and start its broker without touching the shared one.
 */
export class OwnNatsServer {
  private child: ChildProcess | undefined;
  port = 0;

  constructor(
    private readonly storeDir: string,
    /** Credentials the server requires (`--user`/`--pass`), when given. */
    private readonly credentials?: { user: string; password: string },
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Starts the server (on the same port as before when restarted) and waits until it accepts connections. */
  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    const auth = this.credentials ? ['--user', this.credentials.user, '--pass', this.credentials.password] : [];
    const child = spawn(NATS_SERVER, ['-js', '-a', '127.0.0.1', '-p', String(this.port), '-sd', this.storeDir, ...auth], { stdio: 'ignore' });
    this.child = child;
    const deadline = Date.now() + 20_000;
    while (!(await answers(this.port))) {
      if (child.exitCode !== null) throw new Error(`nats-server exited with ${child.exitCode} on port ${this.port}`);
      if (Date.now() > deadline) throw new Error(`nats-server did not answer on port ${this.port}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Stops the server (SIGTERM, SIGKILL after 10 s) and waits until it exited. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

/** Starts an {@link OwnNatsServer} requiring `user`/`password`, with a temporary store removed on `stop()`. */
export async function startOwnNatsServer(user: string, password: string): Promise<{ port: number; stop(): Promise<void> }> {
  const store = mkdtempSync(join(tmpdir(), 'shop-nats-'));
  const server = new OwnNatsServer(store, { user, password });
  const stop = async () => {
    await server.stop();
    rmSync(store, { recursive: true, force: true });
  };
  try {
    await server.start();
  } catch (error) {
    await stop();
    throw error;
  }
  return { port: server.port, stop };
}
