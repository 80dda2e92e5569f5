import type { QueueInfo } from '@mailroom/core';
import type { ConsumerInfo, JetStreamManager, MsgRequest } from '@nats-io/jetstream';
import { Empty, type NatsConnection } from '@nats-io/nats-core';
import type { NatsNames } from './nats-names.js';

/** What `queues()` reads. */
export interface QueuesContext {
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  readonly names: NatsNames;
  readonly ready: () => Promise<void>;
}

/** How long a presence ping waits for answers, in ms: the first answer then a short silence ends it. */
const PRESENCE_WAIT_MS = 500;
const PRESENCE_STALL_MS = 100;

interface Row {
  endpoint: string;
  name: string;
  depth: number;
  inFlight: number;
  consumerFound: boolean;
  storedCommands: number;
  deadLetters: number;
  events: string[];
  /** When the oldest unacknowledged message of any of the endpoint's consumers was stored (epoch ms). */
  oldestAt: number | undefined;
  /** False when the age of a consumer's oldest message could not be read. */
  ageKnown: boolean;
}

async function consumersOf(jsm: JetStreamManager, stream: string): Promise<ConsumerInfo[]> {
  const result: ConsumerInfo[] = [];
  for await (const info of jsm.consumers.list(stream)) result.push(info);
  return result;
}

async function subjectCounts(jsm: JetStreamManager, stream: string, filter: string): Promise<Record<string, number>> {
  const info = await jsm.streams.info(stream, { subjects_filter: filter });
  return info.state.subjects ?? {};
}

/**
 * When the oldest message a consumer has not acknowledged was stored: the first message of its
 * filter after its ack floor (every message up to the floor is acknowledged; one acknowledged out of
 * order just after it can make the age read older than it is). Undefined when it cannot be read.
 */
async function oldestUnacked(jsm: JetStreamManager, info: ConsumerInfo): Promise<number | undefined | 'none'> {
  if (info.num_pending + info.num_ack_pending === 0) return 'none';
  const filter = info.config.filter_subject;
  // The server's MSG.GET takes next_by_subj with a start sequence (the client's type lists only seq or last_by_subj).
  const query = { seq: info.ack_floor.stream_seq + 1, ...(filter !== undefined && { next_by_subj: filter }) } as unknown as MsgRequest;
  try {
    const message = await jsm.streams.getMessage(info.stream_name, query);
    return message ? message.time.getTime() : 'none';
  } catch {
    return undefined;
  }
}

/** Counts the running subscriptions of an endpoint: each answers a core NATS ping on its presence subject. */
async function presence(nc: NatsConnection, subject: string): Promise<number> {
  let count = 0;
  try {
    const replies = await nc.requestMany(subject, Empty, { maxWait: PRESENCE_WAIT_MS, strategy: 'stall', stall: PRESENCE_STALL_MS });
    for await (const reply of replies) if (!reply.headers?.hasError) count += 1;
  } catch {
    // No responders: nobody consumes this endpoint right now.
  }
  return count;
}

/**
 * Every endpoint the streams know: those with consumers, with commands waiting for an endpoint
 * that never started, or with dead letters. `depth` counts unacknowledged messages (waiting,
 * delayed for a retry, or with a handler); `inFlight` those delivered and not yet acknowledged,
 * delayed retries included; `consumers` the running subscriptions that answered a presence ping.
 */
export async function listQueues(context: QueuesContext): Promise<QueueInfo[]> {
  const { jsm, names } = context;
  await context.ready();
  const [commandConsumers, eventConsumers, commandSubjects, deadLetterSubjects] = await Promise.all([
    consumersOf(jsm, names.commandsStream),
    consumersOf(jsm, names.eventsStream),
    subjectCounts(jsm, names.commandsStream, `${names.prefix}.command.>`),
    subjectCounts(jsm, names.deadLettersStream, `${names.prefix}.dlq.>`),
  ]);
  const rows = new Map<string, Row>();
  const row = (endpoint: string): Row => {
    let found = rows.get(endpoint);
    if (!found) {
      found = {
        endpoint,
        name: `${names.commandsStream}/${names.commandConsumer(endpoint)}`,
        depth: 0,
        inFlight: 0,
        consumerFound: false,
        storedCommands: 0,
        deadLetters: 0,
        events: [],
        oldestAt: undefined,
        ageKnown: true,
      };
      rows.set(endpoint, found);
    }
    return found;
  };
  const ages: Promise<void>[] = [];
  const count = (target: Row, info: ConsumerInfo) => {
    target.depth += info.num_pending + info.num_ack_pending;
    target.inFlight += info.num_ack_pending;
    ages.push(
      oldestUnacked(jsm, info).then((at) => {
        if (at === undefined) target.ageKnown = false;
        else if (at !== 'none' && (target.oldestAt === undefined || at < target.oldestAt)) target.oldestAt = at;
      }),
    );
  };
  for (const info of commandConsumers) {
    const endpoint = names.consumerEndpoint(info.name);
    if (!endpoint) continue;
    const target = row(endpoint);
    target.consumerFound = true;
    count(target, info);
  }
  const eventPrefix = `${names.prefix}.event.`;
  for (const info of eventConsumers) {
    const endpoint = names.consumerEndpoint(info.name);
    const filter = info.config.filter_subject;
    if (!endpoint || !filter?.startsWith(eventPrefix)) continue;
    const target = row(endpoint);
    count(target, info);
    target.events.push(filter.slice(eventPrefix.length));
  }
  for (const [subject, messages] of Object.entries(commandSubjects)) {
    const parts = names.parseSubject(subject);
    if (parts) row(parts.endpoint).storedCommands += messages;
  }
  for (const [subject, messages] of Object.entries(deadLetterSubjects)) {
    const parts = names.parseSubject(subject);
    if (parts) row(parts.endpoint).deadLetters += messages;
  }
  await Promise.all(ages);
  const now = Date.now();
  const result = await Promise.all(
    [...rows.values()].map(async (r): Promise<QueueInfo> => {
      // Commands for an endpoint that never subscribed wait in the stream without a consumer.
      const depth = r.consumerFound ? r.depth : r.depth + r.storedCommands;
      return {
        endpoint: r.endpoint,
        name: r.name,
        depth,
        inFlight: r.inFlight,
        consumers: await presence(context.nc, names.presenceSubject(r.endpoint)),
        deadLetters: r.deadLetters,
        events: r.events.sort(),
        // Commands waiting for an endpoint that never subscribed have no consumer to date them.
        oldestMessageAgeMs:
          !r.ageKnown || (!r.consumerFound && r.storedCommands > 0) ? undefined : r.oldestAt === undefined ? 0 : Math.max(0, now - r.oldestAt),
      };
    }),
  );
  return result.sort((a, b) => a.endpoint.localeCompare(b.endpoint));
}
