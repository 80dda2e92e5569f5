import { ErrorCodes, MailroomError } from '@mailroom/core';
import type { AmqpPublishOptions } from './amqp-types.js';
import { amqpProperties, type EnvelopeHeaders, type OutgoingProperties } from './headers.js';
import { delayRoute } from './names.js';
import type { Publisher } from './publisher.js';
import type { Topology } from './topology.js';

/** Throws when the publish is no longer wanted; checked before every attempt (e.g. the delivery being copied went back to its queue). */
export type Guard = () => void;

/**
 * Publishes to the places of the topology, declaring them first: an endpoint queue (commands,
 * immediate retries, replays), the delay levels (delayed retries), the error queue (dead letters).
 * Each resolves only once RabbitMQ confirmed the message stored in a queue.
 */
export class Outbound {
  /** Declares the events exchange (nothing to wait for once it is declared): one closure for every event publish. */
  private readonly prepareEvents: (deadline: number) => Promise<void> | undefined;

  constructor(
    private readonly topology: Topology,
    private readonly publisher: Publisher,
    private readonly envelopeHeaders: EnvelopeHeaders,
  ) {
    this.prepareEvents = (by) => topology.eventsExchange(by);
  }

  /** The AMQP properties carrying `headers` in the transport's envelope form (see `amqpProperties`). */
  properties(headers: Record<string, string>): OutgoingProperties {
    return amqpProperties(headers, this.envelopeHeaders);
  }

  /**
   * Straight into `queue` through the default exchange, declared first so that it exists even if its
   * endpoint never started. If the queue vanished meanwhile (the broker returns the message), it is
   * declared again and the message published again, once.
   */
  async toQueue(queue: string, content: Buffer, options: AmqpPublishOptions, deadline: number, guard?: Guard): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const outcome = await this.publisher.publish({ exchange: '', routingKey: queue, mandatory: true }, content, options, deadline, (by) => {
        guard?.();
        return this.topology.endpointQueue(queue, by);
      });
      if (outcome === 'stored') return;
      this.topology.forget(queue);
    }
    throw new MailroomError(
      ErrorCodes.TRANSPORT_PUBLISH_REJECTED,
      `RabbitMQ returned a message for queue ${queue}: the queue was deleted twice while publishing`,
    );
  }

  /**
   * Into the delay levels, which hand it after at least `delayMs` to the delay-deliver exchange with
   * routing-key tail `queue`: the endpoint queue of that name (delayed retries, scheduled commands),
   * or, for a {@link scheduledEventTail}, every queue bound to that event type's scheduled pattern.
   */
  async toDelay(queue: string, delayMs: number, content: Buffer, options: AmqpPublishOptions, deadline: number, guard?: Guard): Promise<void> {
    const route = delayRoute(delayMs, queue);
    const target = { exchange: this.topology.names.delayLevel(route.topLevel), routingKey: route.routingKey, mandatory: true };
    for (let attempt = 0; attempt < 2; attempt++) {
      const outcome = await this.publisher.publish(target, content, options, deadline, (by) => {
        guard?.();
        return this.topology.delayLevels(route.topLevel, by);
      });
      if (outcome === 'stored') return;
      this.topology.reset(); // a delay queue was deleted: declare the levels again
    }
    throw new MailroomError(
      ErrorCodes.TRANSPORT_PUBLISH_REJECTED,
      `RabbitMQ could not route a delayed message for ${queue}: its delay queues were deleted while publishing`,
    );
  }

  /** Into the events exchange, routed by type to the queues bound to it (none: the event is dropped, as events with no subscriber are). */
  async toEvents(type: string, content: Buffer, options: AmqpPublishOptions, deadline: number): Promise<void> {
    await this.publisher.publish({ exchange: this.topology.names.events, routingKey: type, mandatory: false }, content, options, deadline, this.prepareEvents);
  }

  /** Into the queue `queue` of the transport's own (error queue, registry). */
  async toOwnQueue(queue: string, content: Buffer, options: AmqpPublishOptions, deadline: number, guard?: Guard): Promise<void> {
    const outcome = await this.publisher.publish({ exchange: '', routingKey: queue, mandatory: true }, content, options, deadline, (by) => {
      guard?.();
      return this.topology.ownQueue(queue, by);
    });
    if (outcome === 'returned') {
      this.topology.forget(queue);
      throw new MailroomError(ErrorCodes.TRANSPORT_PUBLISH_REJECTED, `RabbitMQ returned a message for ${queue}: the queue was deleted; try again`);
    }
  }
}
