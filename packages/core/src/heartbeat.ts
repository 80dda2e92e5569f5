import type { StandardSchemaV1 } from '@standard-schema/spec';
import { defineEvent } from './contract.js';

/** The payload of a {@link MailroomHeartbeat}: one endpoint instance (process) saying it is alive. */
export interface HeartbeatData {
  /** The endpoint's name. */
  endpoint: string;
  /** This instance (one `Endpoint` object in one process), a random id made at start. */
  instanceId: string;
  /** The service's version (`heartbeat.version`, default `npm_package_version` or `unknown`). */
  version: string;
  host: string;
  pid: number;
  /** When the endpoint started, ISO 8601. */
  startedAt: string;
  /** When this heartbeat was sent, ISO 8601 (the sender's clock). */
  sentAt: string;
  /** How often the instance sends one: a monitor calls it stale after twice this without one. */
  intervalMs: number;
  /** The endpoint's `concurrency`. */
  concurrency: number;
  /** Deliveries being handled when it was sent. */
  inFlight: number;
  /** Circuit breaker states by name, from `heartbeat.breakers()`. */
  breakers: Record<string, string>;
}

const STRING_FIELDS = ['endpoint', 'instanceId', 'version', 'host', 'startedAt', 'sentAt'] as const;
const NUMBER_FIELDS = ['pid', 'intervalMs', 'concurrency', 'inFlight'] as const;

function issuesOf(value: unknown): StandardSchemaV1.Issue[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [{ message: 'a heartbeat must be an object' }];
  const record = value as Record<string, unknown>;
  const issues: StandardSchemaV1.Issue[] = [];
  for (const key of STRING_FIELDS) if (typeof record[key] !== 'string') issues.push({ message: 'must be a string', path: [key] });
  for (const key of NUMBER_FIELDS) {
    const n = record[key];
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) issues.push({ message: 'must be a number >= 0', path: [key] });
  }
  for (const key of ['startedAt', 'sentAt'] as const) {
    if (typeof record[key] === 'string' && Number.isNaN(Date.parse(record[key]))) issues.push({ message: 'must be an ISO 8601 time', path: [key] });
  }
  const breakers = record.breakers;
  if (typeof breakers !== 'object' || breakers === null || Array.isArray(breakers)) issues.push({ message: 'must be an object', path: ['breakers'] });
  else
    for (const [name, state] of Object.entries(breakers)) if (typeof state !== 'string') issues.push({ message: 'must be a string', path: ['breakers', name] });
  return issues;
}

/** The Standard Schema of {@link HeartbeatData} (core has no schema library of its own). */
const heartbeatSchema: StandardSchemaV1<HeartbeatData, HeartbeatData> = {
  '~standard': {
    version: 1,
    vendor: 'mailroom',
    validate(value) {
      const issues = issuesOf(value);
      return issues.length > 0 ? { issues } : { value: value as HeartbeatData };
    },
  },
};

const str = { type: 'string' };
const num = { type: 'number', minimum: 0 };

/**
 * The heartbeat contract (`mailroom.endpoint.heartbeat`, version 1): every started endpoint
 * publishes one at start and then every `heartbeat.intervalMs` (default 10 s) unless its
 * `heartbeat` option is `false`. Only a {@link HeartbeatMonitor} subscribes to it; it is sent
 * straight to the transport, outside outgoing middleware, telemetry and the outbox.
 */
export const MailroomHeartbeat = defineEvent('mailroom.endpoint.heartbeat', {
  version: 1,
  schema: heartbeatSchema,
  description: 'An endpoint instance is alive: its version, host, pid, concurrency, in-flight count and breaker states.',
  jsonSchema: {
    type: 'object',
    required: [...STRING_FIELDS, ...NUMBER_FIELDS, 'breakers'],
    properties: {
      endpoint: str,
      instanceId: str,
      version: str,
      host: str,
      startedAt: { type: 'string', format: 'date-time' },
      sentAt: { type: 'string', format: 'date-time' },
      pid: num,
      intervalMs: num,
      concurrency: num,
      inFlight: num,
      breakers: { type: 'object', additionalProperties: str },
    },
  },
});
