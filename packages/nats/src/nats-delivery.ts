import { type DeadLetterRequest, type Delivery, ErrorCodes, type FailureInfo, type Headers, MailroomError } from '@mailroom/core';
import type { JsMsg } from '@nats-io/jetstream';
import { DEAD_LETTER_HEADER, encodeHeaders } from './header-codec.js';
import type { RetryStateStore } from './retry-state.js';

/** Where a tracked message stands: waiting for a slot, with a handler, settled, or given back to the server. */
export type TrackedState = 'waiting' | 'handed' | 'settled' | 'released';

/** A message received from a consumer and not yet settled or given back, with where it came from. */
export interface TrackedMessage {
  readonly msg: JsMsg;
  readonly endpoint: string;
  /** The message type, taken from the subject. */
  readonly type: string;
  /** The retry-state key: `<stream>.<consumer>.<stream sequence>`. */
  readonly key: string;
  state: TrackedState;
}

/** What a delivery needs from its subscription and transport. */
export interface DeliveryContext {
  readonly retryState: RetryStateStore;
  /** Publishes a dead letter; resolves once the dead-letter stream stored it. */
  publishDeadLetter(tracked: TrackedMessage, headers: ReturnType<typeof encodeHeaders>): Promise<void>;
  /** Called once when the delivery is settled: frees its concurrency slot. */
  settled(tracked: TrackedMessage): void;
  /**
   * Sends the acknowledgement of `msg` at the end of this turn of the event loop, with the others
   * of the turn, and runs `afterwards` once the server has read it. Throws `MAILROOM_ERR_TRANSPORT_UNAVAILABLE` when the
   * connection is closed (nothing is sent then).
   */
  acknowledge(msg: JsMsg, afterwards?: () => void): void;
}

/** Longest error message and stack kept on a dead letter (they travel in a header). */
export const MAX_FAILURE_TEXT = 8192;

function truncate(text: string | undefined): string | undefined {
  return text === undefined || text.length <= MAX_FAILURE_TEXT ? text : `${text.slice(0, MAX_FAILURE_TEXT)}…`;
}

/**
 * Wraps one JetStream message as a Mailroom delivery. It settles at most once: a second settle,
 * or a settle after the subscription gave the message back, throws `MAILROOM_ERR_TRANSPORT_SETTLED`.
 * `ack` sends the acknowledgement without waiting for a confirmation (a lost one means a
 * redelivery, never a loss); `retry` records the first failure time, then naks with the delay;
 * `deadLetter` stores the message in the dead-letter stream, then terminates it.
 */
export function createNatsDelivery(tracked: TrackedMessage, headers: Headers, firstFailureAt: Date | undefined, context: DeliveryContext): Delivery {
  const { msg } = tracked;
  const claim = () => {
    if (tracked.state !== 'handed') {
      throw new MailroomError(
        ErrorCodes.TRANSPORT_SETTLED,
        tracked.state === 'released'
          ? 'This delivery was returned to the queue when its subscription closed; it will be delivered again'
          : 'This delivery was already settled',
      );
    }
    tracked.state = 'settled';
    context.settled(tracked);
  };
  const forgetRetryState = () => {
    if (firstFailureAt !== undefined) context.retryState.forget(tracked.key);
  };
  return {
    headers: { ...headers },
    body: msg.data,
    attempt: msg.info.deliveryCount,
    firstFailureAt,
    async ack() {
      claim();
      // Sent without waiting for a confirmation (docs/nats.md, "Deliveries"): an ack that never
      // reaches the server means the message is delivered again, never that it is lost. The retry
      // state goes only once the server has read the ack, so a message is never back without its
      // first failure time.
      context.acknowledge(msg, firstFailureAt === undefined ? undefined : forgetRetryState);
    },
    async retry(delayMs: number, _failure: FailureInfo) {
      claim();
      if (firstFailureAt === undefined) await context.retryState.record(tracked.key, new Date());
      const delay = Math.max(0, Math.ceil(delayMs));
      if (delay > 0) msg.nak(delay);
      else msg.nak();
    },
    async deadLetter(request: DeadLetterRequest) {
      claim();
      const failure = {
        endpoint: tracked.endpoint,
        reason: request.reason,
        errorMessage: truncate(request.errorMessage),
        errorStack: truncate(request.errorStack),
        attempts: request.attempts,
        firstFailureAt: request.firstFailureAt.toISOString(),
        lastFailureAt: request.lastFailureAt.toISOString(),
        source: { subject: msg.subject, stream: msg.info.stream, consumer: msg.info.consumer, sequence: msg.seq },
      };
      try {
        await context.publishDeadLetter(tracked, encodeHeaders(headers, { [DEAD_LETTER_HEADER]: JSON.stringify(failure) }));
      } catch (error) {
        // Not stored: bring the message back soon so the endpoint decides again.
        msg.nak(1000);
        throw error;
      }
      msg.term();
      forgetRetryState();
    },
  };
}
