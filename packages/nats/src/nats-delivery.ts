import { type DeadLetterRequest, type Delivery, ErrorCodes, type FailureInfo, type Headers, MailroomError } from '@mailroom/core';
import { safeDeadLetterRequest } from '@mailroom/core/internal';
import type { JsMsg } from '@nats-io/jetstream';
import { decodeHeaders } from './header-codec.js';
import type { RetryStateStore } from './retry-state.js';
import type { DeadLetterFailure } from './write-dead-letter.js';

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
  /** Stores a dead letter of `tracked` (see `writeDeadLetter`); resolves once stored. */
  storeDeadLetter(tracked: TrackedMessage, headers: Headers, failure: DeadLetterFailure): Promise<void>;
  /** The subscription's delivery bound: past it, a message whose dead-lettering failed comes back only after {@link PARKING_RETRY_MS}. */
  readonly maxDeliveries: number;
  /** Called once when the delivery is settled: frees its concurrency slot. */
  settled(tracked: TrackedMessage): void;
  /**
   * Sends the acknowledgement of `msg` at the end of this turn of the event loop, with the others
   * of the turn, and runs `afterwards` once the server has read it. Throws `MAILROOM_ERR_TRANSPORT_UNAVAILABLE` when the
   * connection is closed (nothing is sent then).
   */
  acknowledge(msg: JsMsg, afterwards?: () => void): void;
}

/** When storing a dead letter failed: how soon the message comes back to be dead-lettered again. */
export const DEAD_LETTER_RETRY_MS = 1000;
/** The same past the delivery bound, where only the dead-letter store itself can be failing (full, unreachable): once a minute. */
export const PARKING_RETRY_MS = 60_000;

/**
 * Wraps one JetStream message as a Mailroom delivery, whose `headers` are the decoded `headers`
 * given (not copied: pass an object of the delivery's own). It settles at most once: a second settle,
 * or a settle after the subscription gave the message back, throws `MAILROOM_ERR_TRANSPORT_SETTLED`.
 * `ack` sends the acknowledgement without waiting for a confirmation (a lost one means a
 * redelivery, never a loss); `retry` records the first failure time, then naks with the delay;
 * `deadLetter` stores the message in the dead-letter stream (see `writeDeadLetter`), then
 * terminates it; when storing fails, the message comes back after {@link DEAD_LETTER_RETRY_MS}
 * (past the delivery bound, {@link PARKING_RETRY_MS}) and the call rejects.
 */
export function createNatsDelivery(
  tracked: TrackedMessage,
  headers: Headers,
  firstFailureAt: Date | undefined,
  context: DeliveryContext,
  /** Deliveries that were holds of a scheduled message (it came early and went back unseen): they are not attempts. */
  held = 0,
): Delivery {
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
    if (firstFailureAt !== undefined || held > 0) context.retryState.forget(tracked.key);
  };
  return {
    // The handler's own: the dead letter decodes the message's headers again, so what a handler changes never reaches it.
    headers,
    body: msg.data,
    attempt: Math.max(1, msg.info.deliveryCount - held),
    firstFailureAt,
    async ack() {
      claim();
      // Sent without waiting for a confirmation (docs/nats.md, "Deliveries"): an ack that never
      // reaches the server means the message is delivered again, never that it is lost. The retry
      // state goes only once the server has read the ack, so a message is never back without its
      // first failure time.
      context.acknowledge(msg, firstFailureAt === undefined && held === 0 ? undefined : forgetRetryState);
    },
    async retry(delayMs: number, _failure: FailureInfo) {
      claim();
      if (firstFailureAt === undefined) await context.retryState.record(tracked.key, new Date());
      const delay = Math.max(0, Math.ceil(delayMs));
      if (delay > 0) msg.nak(delay);
      else msg.nak();
    },
    async deadLetter(unsafe: DeadLetterRequest) {
      claim();
      const request = safeDeadLetterRequest(unsafe);
      const failure: DeadLetterFailure = {
        endpoint: tracked.endpoint,
        reason: request.reason,
        errorMessage: request.errorMessage,
        errorStack: request.errorStack,
        attempts: request.attempts,
        firstFailureAt: request.firstFailureAt.toISOString(),
        lastFailureAt: request.lastFailureAt.toISOString(),
        source: { subject: msg.subject, stream: msg.info.stream, consumer: msg.info.consumer, sequence: msg.seq },
      };
      try {
        await context.storeDeadLetter(tracked, decodeHeaders(msg.headers), failure);
      } catch (error) {
        // Not stored: the message comes back to be dead-lettered again (past the bound, only once a minute).
        msg.nak(msg.info.deliveryCount > context.maxDeliveries ? PARKING_RETRY_MS : DEAD_LETTER_RETRY_MS);
        throw error;
      }
      msg.term();
      forgetRetryState();
    },
  };
}
