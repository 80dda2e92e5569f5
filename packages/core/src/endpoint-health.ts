import { errorMessage } from './errors.js';
import type { Persistence } from './persistence.js';
import type { MessageTransport } from './transport.js';

/** One check of an {@link EndpointHealth}. */
export interface HealthCheck {
  /** `transport`, `consumer` or `relay`. */
  readonly name: 'transport' | 'consumer' | 'relay';
  readonly healthy: boolean;
  /** What was found, in a few words (shown by readiness endpoints). */
  readonly detail: string;
}

/** Whether an endpoint can do its work now: healthy only when every check is. */
export interface EndpointHealth {
  readonly endpoint: string;
  readonly healthy: boolean;
  readonly checks: readonly HealthCheck[];
}

/** Options of `endpoint.health()`. */
export interface HealthOptions {
  /** The oldest unsent outbox row may be at most this old for the relay to count as healthy. Default 60 000 ms. */
  maxRelayLagMs?: number;
}

/** What {@link checkEndpointHealth} looks at. */
export interface HealthSubject {
  readonly endpoint: string;
  readonly transport: MessageTransport;
  readonly persistence: Persistence<any> | undefined;
  /** The endpoint is started. */
  readonly running: boolean;
  /** Handlers are registered (so a consumer must be running). */
  readonly consumes: boolean;
  /** The transport subscription is open. */
  readonly subscribed: boolean;
}

/**
 * Checks an endpoint: its transport reports itself connected (no I/O: the state the transport last
 * observed), its consumer runs, and, when it has persistence, its outbox can be read and the oldest
 * unsent row is younger than `maxRelayLagMs` (one count query). Never throws.
 */
export async function checkEndpointHealth(subject: HealthSubject, options: HealthOptions = {}): Promise<EndpointHealth> {
  const maxRelayLagMs = options.maxRelayLagMs ?? 60_000;
  const checks: HealthCheck[] = [];
  const transport = subject.transport.health?.();
  checks.push(
    transport
      ? { name: 'transport', healthy: transport.connected, detail: `${subject.transport.name}: ${transport.detail}` }
      : { name: 'transport', healthy: true, detail: `${subject.transport.name}: reports no health (assumed connected)` },
  );
  if (!subject.running) checks.push({ name: 'consumer', healthy: false, detail: 'the endpoint is not started' });
  else if (subject.consumes) {
    checks.push({ name: 'consumer', healthy: subject.subscribed, detail: subject.subscribed ? 'consuming' : 'not subscribed' });
  } else checks.push({ name: 'consumer', healthy: true, detail: 'started (no handlers: nothing to consume)' });
  const persistence = subject.persistence;
  if (persistence?.health) {
    try {
      const outbox = await persistence.health();
      const lagging = outbox.relaying && outbox.oldestAgeMs > maxRelayLagMs;
      const what = `${outbox.backlog} unsent, oldest ${Math.round(outbox.oldestAgeMs)} ms${outbox.relaying ? '' : ' (relayed by another process)'}`;
      checks.push({ name: 'relay', healthy: !lagging, detail: lagging ? `${what}: over the ${maxRelayLagMs} ms limit` : what });
    } catch (error) {
      checks.push({ name: 'relay', healthy: false, detail: `the outbox cannot be read: ${errorMessage(error)}` });
    }
  }
  return { endpoint: subject.endpoint, healthy: checks.every((check) => check.healthy), checks };
}
