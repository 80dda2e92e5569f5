import { randomUUID } from 'node:crypto';
import { type DeadLetterRequest, type Delivery, ErrorCodes, type FailureInfo, isMailroomError, MailroomError } from '@mailroom/core';
import type { Settler } from './ack-batching.js';
import type { AmqpChannel, AmqpMessage } from './amqp-types.js';
import { deadLetterHeaders } from './dead-letter-queue.js';
import { amqpProperties, attemptOf, Bookkeeping, firstFailureOf, userHeaders } from './headers.js';
import { MAX_DELAY_MS } from './names.js';
import type { Outbound } from './outbound.js';

/** What a delivery needs from its subscription. */
export interface DeliveryContext {
  readonly endpoint: string;
  readonly queue: string;
  readonly errorQueue: string;
  readonly outbound: Outbound;
  readonly unavailableTimeoutMs: number;
  /** False once the channel the message came on closed (RabbitMQ then returned the message to the queue). */
  isLive(channel: AmqpChannel): boolean;
}

/**
 * Wraps one AMQP message as a Mailroom {@link Delivery}. Guarantees: it settles at most once (a
 * second settle, or a settle after its channel closed, rejects with `MAILROOM_ERR_TRANSPORT_SETTLED`
 * without sending anything, so amqplib never closes the channel over an unknown delivery tag);
 * `retry` and `deadLetter` acknowledge the original only after the broker confirmed its copy, and
 * when the copy cannot be published they return the original to the queue and reject. Every
 * settle call that is not refused as already settled settles the message one way or the other: a
 * `retry` delay above `MAX_DELAY_MS` (about 497 days) is capped at it, and an invalid one (negative,
 * not a number) returns the message to the queue before rejecting with `MAILROOM_ERR_TRANSPORT_CONFIG`.
 */
export function createDelivery(context: DeliveryContext, channel: AmqpChannel, message: AmqpMessage, settler: Settler = channel): Delivery {
  const headers = userHeaders(message);
  const attempt = attemptOf(message);
  const firstFailureAt = firstFailureOf(message);
  let settled = false;

  const claim = (action: string) => {
    if (settled) throw new MailroomError(ErrorCodes.TRANSPORT_SETTLED, `This delivery was already settled; ${action} was not applied`);
    if (!context.isLive(channel)) {
      throw new MailroomError(
        ErrorCodes.TRANSPORT_SETTLED,
        `The channel of this delivery closed, so RabbitMQ returned the message to queue ${context.queue}; ${action} was not applied and it will be delivered again`,
      );
    }
    settled = true;
  };
  const ack = () => {
    try {
      settler.ack(message);
    } catch (error) {
      throw new MailroomError(ErrorCodes.TRANSPORT_SETTLED, `The channel closed before the acknowledgement; RabbitMQ will deliver the message again`, {
        cause: error,
      });
    }
  };
  const requeue = () => {
    try {
      settler.nack(message, false, true);
    } catch {
      // the channel is gone: RabbitMQ returns the message by itself
    }
  };
  // A copy is published only while the original is still held: if its channel closed meanwhile (an
  // outage), RabbitMQ redelivers the original, and a copy as well would be a needless duplicate.
  const stillHeld = () => {
    if (!context.isLive(channel)) {
      throw new MailroomError(
        ErrorCodes.TRANSPORT_SETTLED,
        `The channel of this delivery closed before its copy was published; RabbitMQ will deliver the message again`,
      );
    }
  };
  const copyThenAck = async (publish: () => Promise<void>) => {
    try {
      await publish();
    } catch (error) {
      requeue();
      throw error;
    }
    ack();
  };

  return {
    headers: { ...headers },
    body: message.content,
    attempt,
    firstFailureAt,
    async ack() {
      claim('ack');
      ack();
    },
    async retry(requestedMs: number, _failure: FailureInfo) {
      claim('retry');
      if (typeof requestedMs !== 'number' || !(requestedMs >= 0)) {
        // Settled all the same: a delivery left unsettled would hold a prefetch slot until its channel closes.
        requeue();
        throw new MailroomError(
          ErrorCodes.TRANSPORT_CONFIG,
          `retry() needs a delay in milliseconds >= 0, got ${String(requestedMs)}; the message went back to queue ${context.queue} and will be delivered again`,
        );
      }
      // The delay levels hold at most MAX_DELAY_MS (about 497 days): a longer delay waits that long.
      const delayMs = Math.min(requestedMs, MAX_DELAY_MS);
      const copy = amqpProperties({
        ...headers,
        [Bookkeeping.attempts]: String(attempt),
        [Bookkeeping.firstFailureAt]: String((firstFailureAt ?? new Date()).getTime()),
      });
      const deadline = Date.now() + context.unavailableTimeoutMs;
      await copyThenAck(() =>
        delayMs > 0
          ? context.outbound.toDelay(context.queue, delayMs, message.content, copy, deadline, stillHeld)
          : context.outbound.toQueue(context.queue, message.content, copy, deadline, stillHeld),
      );
    },
    async deadLetter(request: DeadLetterRequest) {
      claim('deadLetter');
      const id = randomUUID();
      const deadline = Date.now() + context.unavailableTimeoutMs;
      const publish = (details: DeadLetterRequest) =>
        context.outbound.toOwnQueue(
          context.errorQueue,
          message.content,
          amqpProperties(deadLetterHeaders(headers, details, context.endpoint, context.queue, id)),
          deadline,
          stillHeld,
        );
      await copyThenAck(() =>
        publish(request).catch((error: unknown) => {
          if (!isMailroomError(error, ErrorCodes.CODEC_TOO_LARGE)) throw error;
          // The failure details made the headers too large for an AMQP frame: keep the letter, cut the details.
          return publish({ ...request, errorMessage: request.errorMessage.slice(0, 500), errorStack: undefined });
        }),
      );
    },
  };
}
