import { randomUUID } from 'node:crypto';
import { type DeadLetterRequest, type Delivery, ErrorCodes, type FailureInfo, type Logger, MailroomError } from '@mailroom/core';
import { boundedText } from '@mailroom/core/internal';
import type { Settler } from './ack-batching.js';
import type { AmqpChannel, AmqpMessage } from './amqp-types.js';
import { deadLetterHeaders } from './dead-letter-queue.js';
import { attemptOf, Bookkeeping, firstFailureOf, userHeaders } from './headers.js';
import { MAX_DELAY_MS } from './names.js';
import type { Outbound } from './outbound.js';

/** What a delivery needs from its subscription. */
export interface DeliveryContext {
  readonly endpoint: string;
  readonly queue: string;
  readonly errorQueue: string;
  readonly outbound: Outbound;
  readonly unavailableTimeoutMs: number;
  readonly log: Logger;
  /** False once the channel the message came on closed (RabbitMQ then returned the message to the queue). */
  isLive(channel: AmqpChannel): boolean;
}

/** A {@link Delivery} with what only the transport's subscription uses. */
export interface RabbitMqDelivery extends Delivery {
  /**
   * Settles a redelivery from a classic queue (which flags redeliveries without counting them): puts
   * a copy back in the queue carrying this delivery's count, so it comes again with the same
   * `attempt`, then acks the original. The handler never sees the original.
   */
  recount(): Promise<void>;
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
 *
 * `deadLetter` never fails on the message's content: when the copy with the failure details cannot
 * be published (the headers and the details do not fit in one AMQP frame, RabbitMQ refuses it), it
 * publishes the copy again with the details cut (message to 500 characters, no stack), and when
 * that fails too it rejects the original without requeueing, so that RabbitMQ's own dead-lettering
 * (the queue's dead-letter exchange) moves it verbatim to the error queue, logged at error level.
 * It rejects only when the channel of the delivery is gone (RabbitMQ then delivers it again).
 */
export function createDelivery(context: DeliveryContext, channel: AmqpChannel, message: AmqpMessage, settler: Settler = channel): RabbitMqDelivery {
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
  /** RabbitMQ's own dead-lettering: the queue's dead-letter exchange moves the message, verbatim, to the error queue. */
  const rejectToErrorQueue = () => {
    try {
      settler.nack(message, false, false);
    } catch (error) {
      throw new MailroomError(ErrorCodes.TRANSPORT_SETTLED, 'The channel closed before the message could be rejected; RabbitMQ will deliver it again', {
        cause: error,
      });
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
  /** Puts a copy carrying `carried` deliveries back in the queue (after `delayMs`), then acks the original. */
  const requeueCopy = async (carried: number, delayMs: number) => {
    const copy = context.outbound.properties({
      ...headers,
      [Bookkeeping.attempts]: String(carried),
      [Bookkeeping.firstFailureAt]: String((firstFailureAt ?? new Date()).getTime()),
    });
    const deadline = Date.now() + context.unavailableTimeoutMs;
    await copyThenAck(() =>
      delayMs > 0
        ? context.outbound.toDelay(context.queue, delayMs, message.content, copy, deadline, stillHeld)
        : context.outbound.toQueue(context.queue, message.content, copy, deadline, stillHeld),
    );
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
      await requeueCopy(attempt, Math.min(requestedMs, MAX_DELAY_MS));
    },
    async recount() {
      claim('recount');
      await requeueCopy(attempt - 1, 0);
    },
    async deadLetter(request: DeadLetterRequest) {
      claim('deadLetter');
      const id = randomUUID();
      const deadline = Date.now() + context.unavailableTimeoutMs;
      const publish = (copy: Record<string, string>) =>
        context.outbound.toOwnQueue(context.errorQueue, message.content, context.outbound.properties(copy), deadline, stillHeld);
      let failure: unknown;
      const cut = {
        ...request,
        errorMessage: `${boundedText(request.errorMessage, 500)} [details cut: they did not fit in one AMQP frame with the headers]`,
        errorStack: undefined,
      };
      for (const details of [request, cut]) {
        try {
          await publish(deadLetterHeaders(headers, details, context.endpoint, context.queue, id));
          ack();
          return;
        } catch (error) {
          if (!context.isLive(channel)) throw error; // the original is back in its queue
          failure = error;
        }
      }
      rejectToErrorQueue();
      context.log.error(
        { code: ErrorCodes.DEAD_LETTER_FAILED, err: failure, queue: context.queue, messageId: headers['ce-id'], reason: request.reason },
        'could not publish the dead letter; RabbitMQ dead-lettered the message itself (verbatim, to the error queue, without the failure details)',
      );
    },
  };
}
