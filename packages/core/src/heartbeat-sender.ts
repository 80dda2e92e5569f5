import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { encodeJson } from './codec.js';
import { createEnvelope, envelopeToHeaders } from './envelope.js';
import type { MailroomError } from './errors.js';
import { type HeartbeatData, MailroomHeartbeat } from './heartbeat.js';
import { checkNumberOption } from './internal/number-option.js';
import { settleWithin } from './internal/timing.js';
import type { Logger } from './logger.js';
import type { MessageTransport } from './transport.js';

/** The `heartbeat` option of an endpoint (see {@link EndpointOptions.heartbeat}). */
export interface HeartbeatOptions {
  /** How often a heartbeat is published, at least 100 ms. Default 10 000 ms. */
  intervalMs?: number;
  /** The circuit breaker states to report, by name (called at every heartbeat; a throw reports none). */
  breakers?: () => Record<string, string>;
  /** The service version reported. Default `process.env.npm_package_version`, else `unknown`. */
  version?: string;
}

/** The default heartbeat interval: 10 s. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 10_000;
/** The shortest heartbeat interval accepted. */
export const MIN_HEARTBEAT_INTERVAL_MS = 100;

/** How long `stop()` waits for a heartbeat on its way (a hung broker must not hold up a stop). */
const STOP_WAIT_MS = 1000;

/** The settings of a heartbeat, checked. */
export interface HeartbeatSettings {
  readonly intervalMs: number;
  readonly breakers: (() => Record<string, string>) | undefined;
  readonly version: string;
}

/**
 * Checks an endpoint's `heartbeat` option: undefined when heartbeats are off (`false`), else the
 * settings. Throws the error `fail` makes for an interval below 100 ms, a `breakers` that is not a
 * function or a `version` that is not a string.
 */
export function resolveHeartbeat(
  option: false | HeartbeatOptions | undefined,
  name: string,
  fail: (message: string) => MailroomError,
): HeartbeatSettings | undefined {
  if (option === false) return undefined;
  if (option !== undefined && (typeof option !== 'object' || option === null)) throw fail(`${name} must be false or an object, got ${String(option)}`);
  const intervalMs = checkNumberOption(option?.intervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS, `${name}.intervalMs`, { min: MIN_HEARTBEAT_INTERVAL_MS }, fail);
  if (option?.breakers !== undefined && typeof option.breakers !== 'function') throw fail(`${name}.breakers must be a function`);
  if (option?.version !== undefined && typeof option.version !== 'string') throw fail(`${name}.version must be a string`);
  return { intervalMs, breakers: option?.breakers, version: option?.version ?? process.env.npm_package_version ?? 'unknown' };
}

/** What a {@link HeartbeatSender} reports about its endpoint at each beat. */
export interface HeartbeatSubject {
  readonly endpoint: string;
  readonly source: string;
  readonly concurrency: number;
  inFlight(): number;
}

/**
 * Publishes an endpoint's heartbeats: one at `start()` and one every interval until `stop()`
 * (the timer is unref'd: it never keeps a process alive). A failed publish is logged as a warning
 * and never reaches the endpoint. Heartbeats go straight to the transport.
 */
export class HeartbeatSender {
  private timer: NodeJS.Timeout | undefined;
  private pending: Promise<void> | undefined;
  private instanceId = '';
  private startedAt = '';

  constructor(
    private readonly subject: HeartbeatSubject,
    private readonly transport: MessageTransport,
    private readonly settings: HeartbeatSettings,
    private readonly log: Logger,
  ) {}

  /** Sends the first heartbeat (without waiting for it) and starts the timer, under a new instance id. */
  start(): void {
    this.stop();
    this.instanceId = randomUUID();
    this.startedAt = new Date().toISOString();
    this.beat();
    this.timer = setInterval(() => this.beat(), this.settings.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer; resolves once a heartbeat being published has settled, or after at most a second. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.pending) await settleWithin(this.pending, STOP_WAIT_MS);
  }

  private beat(): void {
    if (this.pending) return; // the previous one is still on its way: skip rather than pile up
    const sending = this.send().catch((error) => {
      try {
        this.log.warn({ err: error, type: MailroomHeartbeat.type }, 'could not publish a heartbeat');
      } catch {
        // a failing logger must not surface either
      }
    });
    this.pending = sending.finally(() => {
      this.pending = undefined;
    });
  }

  private async send(): Promise<void> {
    let breakers: Record<string, string> = {};
    try {
      breakers = Object.fromEntries(Object.entries(this.settings.breakers?.() ?? {}).map(([name, state]) => [name, String(state)]));
    } catch (error) {
      this.log.warn({ err: error }, 'heartbeat.breakers() threw; the heartbeat reports no breakers');
    }
    const data: HeartbeatData = {
      endpoint: this.subject.endpoint,
      instanceId: this.instanceId,
      version: this.settings.version,
      host: hostname(),
      pid: process.pid,
      startedAt: this.startedAt,
      sentAt: new Date().toISOString(),
      intervalMs: this.settings.intervalMs,
      concurrency: this.subject.concurrency,
      inFlight: this.subject.inFlight(),
      breakers,
    };
    const envelope = createEnvelope({ type: MailroomHeartbeat.type, dataversion: MailroomHeartbeat.version, source: this.subject.source });
    await this.transport.publish({
      route: { kind: 'event', type: MailroomHeartbeat.type },
      headers: envelopeToHeaders(envelope),
      body: encodeJson(data),
    });
  }
}
