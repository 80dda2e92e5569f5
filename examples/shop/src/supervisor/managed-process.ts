import { type ChildProcess, fork } from 'node:child_process';
import { EXIT_CANNOT_START } from '../runtime/startup-failure.js';
import type { WorkerState, WorkerStatus } from './control-api.js';
import type { LogPrefixer } from './log-prefixer.js';

/** How one worker process is started and restarted. */
export interface ManagedProcessOptions {
  /** Shown in log prefixes, e.g. `payments#2`. */
  label: string;
  index: number;
  /** The script to run (a service entry point). */
  script: string;
  /** Node options of the child (the supervisor's own, so TypeScript runs under tsx in development). */
  execArgv: readonly string[];
  /** The child's environment, computed at each (re)start. */
  env: () => NodeJS.ProcessEnv;
  logs: LogPrefixer;
  /** The first delay before restarting after a crash; doubles per crash in a row, up to 30 s. */
  restartDelayMs: number;
  /** Called with the URLs a child announces in its `ready` message (its own, and its operations port's). */
  onReady?: (urls: { url: string | undefined; opsUrl: string | undefined }) => void;
  /** Called, instead of a restart, when the child exits saying it cannot start until a setting changes (wrong credentials, a bad URL). */
  onCannotStart?: (message: string) => void;
}

const MAX_RESTART_DELAY_MS = 30_000;
/** A process that ran this long before crashing starts the backoff over. */
const STABLE_AFTER_MS = 10_000;
/** How long a process may take to stop after SIGTERM before SIGKILL. */
const STOP_TIMEOUT_MS = 10_000;

/**
 * One worker process under supervision: started with an IPC channel, its output prefixed, restarted
 * with exponential backoff when it exits without being asked to (unless it exits saying it cannot
 * start until a setting changes: then it stays stopped and `onCannotStart` hears why), stopped with
 * SIGTERM (then SIGKILL after 10 s) when asked to.
 */
export class ManagedProcess {
  private child: ChildProcess | undefined;
  private state: WorkerState = 'stopped';
  private since = new Date();
  private restarts = 0;
  private crashesInARow = 0;
  private lastExit: string | undefined;
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private wanted = false;
  private readyWaiters: (() => void)[] = [];
  private exitWaiters: (() => void)[] = [];
  private cannotStart: string | undefined;

  constructor(private readonly options: ManagedProcessOptions) {}

  /** Its status for the control channel. */
  status(): WorkerStatus {
    return {
      index: this.options.index,
      pid: this.child?.pid,
      state: this.state,
      restarts: this.restarts,
      since: this.since.toISOString(),
      lastExit: this.lastExit,
    };
  }

  /** Starts the process unless it runs or is starting; keeps it running from now on. */
  start(): void {
    this.wanted = true;
    if (this.child || this.state === 'restarting') return;
    this.spawn();
  }

  /** Resolves once the process said it is ready (at once if it is running). */
  ready(): Promise<void> {
    if (this.state === 'running') return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** Sends a message to the process, if it runs. A process that exits meanwhile misses it; it gets the state from its environment when restarted. */
  send(message: object): void {
    if (this.child?.connected) this.child.send(message, () => undefined);
  }

  /** Keeps the process from being restarted from now on, without stopping it: when it exits, it stays stopped. */
  release(): void {
    this.wanted = false;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
  }

  /** Stops the process (SIGTERM, then SIGKILL after 10 s) and keeps it stopped. Resolves once it exited. */
  stop(): Promise<void> {
    this.release();
    const child = this.child;
    if (!child) {
      this.setState('stopped');
      return Promise.resolve();
    }
    this.setState('stopping');
    const exited = new Promise<void>((resolve) => this.exitWaiters.push(resolve));
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    return exited.finally(() => clearTimeout(killer));
  }

  private setState(state: WorkerState): void {
    this.state = state;
    this.since = new Date();
  }

  private spawn(): void {
    const { label, logs } = this.options;
    this.setState('starting');
    this.startedAt = Date.now();
    const child = fork(this.options.script, [], {
      execArgv: [...this.options.execArgv],
      env: this.options.env(),
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.child = child;
    if (child.stdout) logs.pipe(label, child.stdout);
    if (child.stderr) logs.pipe(label, child.stderr);
    child.on('message', (message: { type?: string; url?: string; opsUrl?: string; message?: string }) => {
      if (message?.type === 'cannot-start') this.cannotStart = String(message.message);
      if (message?.type !== 'ready' || child !== this.child) return;
      if (this.state === 'starting') this.setState('running');
      this.options.onReady?.({ url: message.url, opsUrl: message.opsUrl });
      for (const resolve of this.readyWaiters.splice(0)) resolve();
    });
    child.on('error', (error) => logs.line('supervisor', `${label} could not be started: ${error.message}`));
    child.once('exit', (code, signal) => this.exited(child, code, signal));
  }

  private exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child) return;
    const wasStopping = this.state === 'stopping';
    this.child = undefined;
    this.lastExit = signal ? `signal ${signal}` : `exit code ${code}`;
    for (const resolve of this.exitWaiters.splice(0)) resolve();
    if (!this.wanted) {
      this.setState('stopped');
      return;
    }
    if (wasStopping) {
      this.spawn(); // started again while it was stopping
      return;
    }
    if (code === EXIT_CANNOT_START) {
      // Restarting cannot help (wrong credentials, a bad URL or setting): stay stopped, and say why once
      // its last message was read ('close' comes after every message of the IPC channel).
      this.wanted = false;
      this.setState('stopped');
      child.once('close', () => {
        const why = this.cannotStart ?? `exited with code ${EXIT_CANNOT_START}: it cannot start until a setting changes (see its log above)`;
        this.cannotStart = undefined;
        this.options.logs.line('supervisor', `${this.options.label} cannot start: ${why}`);
        this.options.onCannotStart?.(why);
      });
      return;
    }
    this.crashesInARow = Date.now() - this.startedAt >= STABLE_AFTER_MS ? 1 : this.crashesInARow + 1;
    const delay = Math.min(MAX_RESTART_DELAY_MS, this.options.restartDelayMs * 2 ** (this.crashesInARow - 1));
    this.options.logs.line('supervisor', `${this.options.label} exited unexpectedly (${this.lastExit}); restarting in ${delay} ms`);
    this.setState('restarting');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.wanted) return;
      this.restarts += 1;
      this.spawn();
    }, delay);
  }
}
