import { createEndpoint, type Endpoint } from './endpoint.js';
import { ErrorCodes, MailroomError } from './errors.js';
import { type HeartbeatData, MailroomHeartbeat } from './heartbeat.js';
import { checkNumberOption, POSITIVE } from './internal/number-option.js';
import type { Logger } from './logger.js';
import type { MessageTransport } from './transport.js';

/** Options of {@link HeartbeatMonitor}. */
export interface HeartbeatMonitorOptions {
  transport: MessageTransport;
  /** The monitor's own endpoint (its queue). Default `mailroom-console`. */
  name?: string;
  /** An instance whose last heartbeat is older than this is forgotten. Default 3 600 000 ms (1 h). */
  forgetAfterMs?: number;
  logger?: Logger;
}

/** `alive` while heartbeats arrive within twice their interval; `stale` once one is missed. */
export type InstanceStatus = 'alive' | 'stale';

/** One endpoint instance from its latest heartbeat. */
export interface HeartbeatInstance extends HeartbeatData {
  readonly status: InstanceStatus;
  /** When the monitor received the latest heartbeat, ISO 8601. */
  readonly receivedAt: string;
}

/**
 * Watches endpoint liveness: subscribes to {@link MailroomHeartbeat} with an endpoint of its own
 * and keeps the latest heartbeat of each instance. An instance is `stale` when its latest
 * heartbeat was sent more than 2 × its `intervalMs` ago (sender and monitor clocks are assumed to
 * agree within that). A heartbeat already that old when it arrives is acknowledged and ignored,
 * so a backlog that built up in the monitor's queue while no monitor ran never shows a dead
 * instance as alive. That queue is durable like any endpoint's: while the monitor is down it keeps
 * collecting heartbeats (one per instance per interval), drained and ignored at the next start.
 */
export class HeartbeatMonitor {
  readonly endpoint: Endpoint;
  private readonly latest = new Map<string, HeartbeatInstance>();
  private readonly forgetAfterMs: number;

  constructor(options: HeartbeatMonitorOptions) {
    if (typeof options !== 'object' || options === null)
      throw new MailroomError(ErrorCodes.ENDPOINT_CONFIG, 'HeartbeatMonitor needs an options object with a transport');
    this.forgetAfterMs = checkNumberOption(
      options.forgetAfterMs ?? 3_600_000,
      'HeartbeatMonitor forgetAfterMs',
      POSITIVE,
      (message) => new MailroomError(ErrorCodes.ENDPOINT_CONFIG, message),
    );
    this.endpoint = createEndpoint({
      name: options.name ?? 'mailroom-console',
      transport: options.transport,
      heartbeat: false,
      ...(options.logger && { logger: options.logger }),
    });
    this.endpoint.on(MailroomHeartbeat, (beat) => this.receive(beat));
  }

  /** Starts consuming heartbeats. */
  start(): Promise<void> {
    return this.endpoint.start();
  }

  /** Stops consuming (the transport stays open). What was received stays readable. */
  stop(): Promise<void> {
    return this.endpoint.stop();
  }

  /** Every instance heard from within `forgetAfterMs`, with its status now, by endpoint then host and pid. */
  instances(now = Date.now()): HeartbeatInstance[] {
    const result: HeartbeatInstance[] = [];
    for (const [id, beat] of this.latest) {
      const age = now - Date.parse(beat.sentAt);
      if (age > this.forgetAfterMs) this.latest.delete(id);
      else result.push({ ...beat, status: age > 2 * beat.intervalMs ? 'stale' : 'alive' });
    }
    return result.sort((a, b) => a.endpoint.localeCompare(b.endpoint) || a.host.localeCompare(b.host) || a.pid - b.pid);
  }

  private receive(beat: HeartbeatData): void {
    const sentAt = Date.parse(beat.sentAt);
    if (Date.now() - sentAt > 2 * beat.intervalMs) return; // stale on arrival: a backlog, not a sign of life
    const known = this.latest.get(beat.instanceId);
    if (known && Date.parse(known.sentAt) >= sentAt) return; // an older one, delivered late
    this.latest.set(beat.instanceId, { ...beat, status: 'alive', receivedAt: new Date().toISOString() });
  }
}
