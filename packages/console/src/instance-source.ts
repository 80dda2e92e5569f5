import type { HeartbeatInstance, HeartbeatMonitor } from '@mailroom/core';

/** One endpoint instance as the console shows it, from its heartbeats. */
export interface InstanceView {
  readonly endpoint: string;
  readonly instanceId: string;
  readonly version: string;
  readonly host: string;
  readonly pid: number;
  /** True while the latest heartbeat was sent within twice its interval; false (stale) once one is missed. */
  readonly alive: boolean;
  /** When the latest heartbeat was sent, ISO 8601. */
  readonly lastSeen: string;
  readonly intervalMs: number;
  readonly concurrency: number;
  readonly inFlight: number;
  /** Circuit breaker states by name. */
  readonly breakers: Readonly<Record<string, string>>;
}

/** Where the console reads endpoint instances from (core's heartbeat monitor, adapted). */
export interface InstanceSource {
  instances(): readonly InstanceView[];
}

/** What {@link heartbeatInstanceSource} reads: core's `HeartbeatMonitor` fits. */
export interface HeartbeatReader {
  instances(): readonly HeartbeatInstance[];
}

/** Adapts core's {@link HeartbeatMonitor} (or any {@link HeartbeatReader}) to the console's {@link InstanceSource}. */
export function heartbeatInstanceSource(monitor: HeartbeatReader): InstanceSource {
  return {
    instances: () =>
      monitor.instances().map((beat) => ({
        endpoint: beat.endpoint,
        instanceId: beat.instanceId,
        version: beat.version,
        host: beat.host,
        pid: beat.pid,
        alive: beat.status === 'alive',
        lastSeen: beat.sentAt,
        intervalMs: beat.intervalMs,
        concurrency: beat.concurrency,
        inFlight: beat.inFlight,
        breakers: beat.breakers,
      })),
  };
}
