import { errorMessage, type SubscribeOptions } from '@mailroom/core';
import { AckPolicy, type ConsumerConfig, DeliverPolicy, type JetStreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import type { NatsNames } from './nats-names.js';

/** One durable consumer of an endpoint: its stream, name and subject filter. */
export interface ConsumerSpec {
  readonly stream: string;
  readonly name: string;
  readonly filter: string;
  /** `all` for commands (they wait for the endpoint), `new` for events (only those published after subscribing). */
  readonly deliverPolicy: DeliverPolicy;
  readonly description: string;
  /** The event type, for event consumers; commands take their type from the subject. */
  readonly eventType: string | undefined;
}

/**
 * The durable consumers of an endpoint: one on the commands stream (its commands and replays) and
 * one per event type on the events stream. NATS 2.9 consumers take a single filter subject, so
 * an endpoint with n event types has n + 1 consumers.
 */
export function consumerSpecs(names: NatsNames, options: SubscribeOptions): ConsumerSpec[] {
  const { endpoint } = options;
  const specs: ConsumerSpec[] = [
    {
      stream: names.commandsStream,
      name: names.commandConsumer(endpoint),
      filter: names.commandFilter(endpoint),
      deliverPolicy: DeliverPolicy.All,
      description: `Mailroom endpoint ${endpoint}: commands and replays`,
      eventType: undefined,
    },
  ];
  for (const type of new Set(options.events)) {
    specs.push({
      stream: names.eventsStream,
      name: names.eventConsumer(endpoint, type),
      filter: names.eventSubject(type),
      deliverPolicy: DeliverPolicy.New,
      description: `Mailroom endpoint ${endpoint}: event ${type}`,
      eventType: type,
    });
  }
  return specs;
}

/**
 * Creates the durable consumer, or brings an existing one to the wanted AckWait and description
 * (the last process to subscribe sets them). Explicit acks, unlimited deliveries: the endpoint's
 * recoverability policy decides when a message is dead-lettered, so JetStream never parks a
 * message at MaxDeliver where nobody would see it.
 */
export async function ensureConsumer(jsm: JetStreamManager, spec: ConsumerSpec, ackWaitMs: number): Promise<void> {
  const config: Partial<ConsumerConfig> = {
    durable_name: spec.name,
    description: spec.description,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(ackWaitMs),
    max_deliver: -1,
    filter_subject: spec.filter,
    deliver_policy: spec.deliverPolicy,
  };
  try {
    await jsm.consumers.add(spec.stream, config);
  } catch (error) {
    // Servers 2.10+ refuse to "create" an existing consumer with another configuration: update it.
    if (!/already exists|name already in use/i.test(errorMessage(error))) throw error;
    await jsm.consumers.update(spec.stream, spec.name, { ack_wait: config.ack_wait, description: spec.description } as Partial<ConsumerConfig>);
  }
}
