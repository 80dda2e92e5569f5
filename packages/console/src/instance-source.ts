/** One endpoint instance as the console shows it, from its heartbeats. */
export interface InstanceView {
  readonly endpoint: string;
  readonly instanceId: string;
  readonly version: string;
  readonly host: string;
  readonly pid: number;
  /** True while heartbeats arrive within their announced interval (plus grace); false once one is missed: stale. */
  readonly alive: boolean;
  /** When the last heartbeat was received, ISO 8601. */
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
