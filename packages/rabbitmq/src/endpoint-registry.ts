import type { AmqpMessage } from './amqp-types.js';
import { type Browse, browseQueue } from './browse.js';
import type { ConnectionSupervisor } from './connection-supervisor.js';
import type { TopologyNames } from './names.js';
import type { Outbound } from './outbound.js';
import type { Topology } from './topology.js';

/** What the registry remembers of an endpoint that subscribed. */
export interface EndpointRecord {
  readonly endpoint: string;
  readonly queue: string;
  readonly events: readonly string[];
  readonly commands: readonly string[];
  /** ISO time of the last change. */
  readonly updatedAt: string;
}

/** What the registry needs from its transport. */
export interface EndpointRegistryContext {
  readonly supervisor: ConnectionSupervisor;
  readonly topology: Topology;
  readonly outbound: Outbound;
  readonly names: TopologyNames;
  readonly lockTimeoutMs: number;
  readonly unavailableTimeoutMs: number;
}

interface Entry {
  readonly record: EndpointRecord;
  readonly message: AmqpMessage;
}

/**
 * The endpoints that subscribed through any process, kept as one JSON message per endpoint in the
 * classic queue `<namespace>.endpoints`, because AMQP 0-9-1 cannot list queues or bindings. Read and
 * written by browsing under a lock; a newer record of an endpoint replaces the older ones.
 */
export class EndpointRegistry {
  constructor(private readonly context: EndpointRegistryContext) {}

  /** Records an endpoint's queue and bindings, unless the registry already holds exactly that. */
  async register(record: Omit<EndpointRecord, 'updatedAt'>): Promise<void> {
    await this.browse(async (browse) => {
      const mine = this.entries(browse).filter((entry) => entry.record.endpoint === record.endpoint);
      const latest = newest(mine);
      if (latest && same(latest.record, record)) {
        for (const entry of mine) if (entry !== latest) browse.remove(entry.message);
        return;
      }
      const body = Buffer.from(
        JSON.stringify({ ...record, events: [...record.events].sort(), commands: [...record.commands].sort(), updatedAt: new Date().toISOString() }),
      );
      await this.context.outbound.toOwnQueue(
        this.context.names.registry,
        body,
        { contentType: 'application/json' },
        Date.now() + this.context.unavailableTimeoutMs,
      );
      for (const entry of mine) browse.remove(entry.message);
    });
  }

  /** The newest record of every endpoint, by name. */
  async read(): Promise<EndpointRecord[]> {
    return this.browse(async (browse) => {
      const byEndpoint = new Map<string, Entry[]>();
      for (const entry of this.entries(browse)) byEndpoint.set(entry.record.endpoint, [...(byEndpoint.get(entry.record.endpoint) ?? []), entry]);
      const records: EndpointRecord[] = [];
      for (const entries of byEndpoint.values()) {
        const latest = newest(entries) as Entry;
        for (const entry of entries) if (entry !== latest) browse.remove(entry.message);
        records.push(latest.record);
      }
      return records.sort((a, b) => a.endpoint.localeCompare(b.endpoint));
    });
  }

  /** Removes the records of these endpoints if they are older than `minAgeMs` (their queues were deleted). */
  async prune(endpoints: readonly string[], minAgeMs: number): Promise<void> {
    if (endpoints.length === 0) return;
    const cutoff = new Date(Date.now() - minAgeMs).toISOString();
    await this.browse(async (browse) => {
      for (const entry of this.entries(browse)) if (endpoints.includes(entry.record.endpoint) && entry.record.updatedAt < cutoff) browse.remove(entry.message);
    });
  }

  private entries(browse: Browse): Entry[] {
    const entries: Entry[] = [];
    for (const message of browse.messages) {
      const record = parse(message);
      if (record) entries.push({ record, message });
      else browse.remove(message);
    }
    return entries;
  }

  private browse<T>(visit: (browse: Browse) => Promise<T>): Promise<T> {
    const { supervisor, topology, names, lockTimeoutMs } = this.context;
    return browseQueue(supervisor, topology, names.registry, names.lock(names.registry), lockTimeoutMs, visit);
  }
}

function parse(message: AmqpMessage): EndpointRecord | undefined {
  try {
    const value = JSON.parse(message.content.toString('utf8')) as Partial<EndpointRecord>;
    const strings = (list: unknown) => Array.isArray(list) && list.every((item) => typeof item === 'string');
    if (typeof value.endpoint !== 'string' || typeof value.queue !== 'string' || !strings(value.events) || !strings(value.commands)) return undefined;
    return {
      endpoint: value.endpoint,
      queue: value.queue,
      events: value.events as string[],
      commands: value.commands as string[],
      updatedAt: typeof value.updatedAt === 'string' ? value.updatedAt : new Date(0).toISOString(),
    };
  } catch {
    return undefined;
  }
}

function newest(entries: readonly Entry[]): Entry | undefined {
  let best: Entry | undefined;
  for (const entry of entries) if (!best || entry.record.updatedAt >= best.record.updatedAt) best = entry;
  return best;
}

function same(a: Omit<EndpointRecord, 'updatedAt'>, b: Omit<EndpointRecord, 'updatedAt'>): boolean {
  const key = (r: Omit<EndpointRecord, 'updatedAt'>) => JSON.stringify([r.queue, [...r.events].sort(), [...r.commands].sort()]);
  return key(a) === key(b);
}
