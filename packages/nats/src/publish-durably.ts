import { ErrorCodes, errorMessage, MailroomError } from '@mailroom/core';
import { exponentialDelay, sleep } from '@mailroom/core/internal';
import { JetStreamApiError, type JetStreamClient, type PubAck, PubHeaders } from '@nats-io/jetstream';
import { type MsgHdrs, MsgHdrsImpl, type NatsConnection } from '@nats-io/nats-core';
import type { ResendSignal } from './resend-signal.js';

/** What {@link publishDurably} needs besides the message. */
export interface PublishContext {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  /** Overall time allowed, outages included. */
  readonly timeoutMs: number;
  /** True once the transport was closed: stop retrying. */
  readonly closed: () => boolean;
  /** True while the client holds a connection to a server (false between a disconnect and the reconnect). */
  readonly connected: () => boolean;
  /** Called when no stream answered although connected (deleted streams): recreates them. */
  readonly recreateTopology: () => Promise<void>;
  /**
   * Fires at each event after which an unanswered attempt is sent again at once: the connection
   * came back (the request or its answer may have died with the old one), or one of the
   * transport's streams elected a new leader (the old one may have died holding it).
   */
  readonly resend: ResendSignal;
}

/**
 * How long one attempt waits for JetStream's answer before it is sent again (with the same
 * `Nats-Msg-Id`), unless the connection comes back or the stream elects a leader first.
 */
export const ATTEMPT_TIMEOUT_MS = 5000;

const RESEND: unique symbol = Symbol('resend');

/** Whether `headers` already carry `msgID` as their `Nats-Msg-Id` (see `encodeHeaders`' extra): then the client need not set it again on every attempt. */
function carriesMsgId(headers: MsgHdrs, msgID: string): boolean {
  const values = headers instanceof MsgHdrsImpl ? headers.headers.get(PubHeaders.MsgIdHdr) : [headers.get(PubHeaders.MsgIdHdr)];
  return values?.length === 1 && values[0] === msgID;
}

/** The attempt's answer, or {@link RESEND} when `resend` fires first; waits registered with `resend` only until then. */
function answerOrResend(sent: Promise<PubAck>, resend: ResendSignal): Promise<PubAck | typeof RESEND> {
  return new Promise((resolve, reject) => {
    const wake = () => resolve(RESEND);
    resend.add(wake);
    sent.then(
      (ack) => {
        resend.remove(wake);
        resolve(ack);
      },
      (error: unknown) => {
        resend.remove(wake);
        reject(error);
      },
    );
  });
}

/**
 * Publishes one message to JetStream and resolves with the stream's acknowledgement, that is once
 * the server stored it (on disk with file storage). While the server cannot be reached it retries
 * with the same `Nats-Msg-Id`, so a message stored by an attempt whose answer was lost is stored
 * only once. An attempt with a `msgID` still unanswered when the connection comes back, or when the
 * stream gets a new leader, is sent again at once rather than after {@link ATTEMPT_TIMEOUT_MS}, so
 * publishers resume as soon as a server (or a cluster's new leader) does. Throws `MAILROOM_ERR_TRANSPORT_UNAVAILABLE` when the server stayed unreachable for
 * `timeoutMs`, `MAILROOM_ERR_TRANSPORT_CONFIRM_TIMEOUT` when connected but unconfirmed,
 * `MAILROOM_ERR_TRANSPORT_PUBLISH_REJECTED` when the server refused the message (limits, size).
 */
export async function publishDurably(
  context: PublishContext,
  subject: string,
  body: Uint8Array,
  options: { headers: MsgHdrs; msgID?: string | undefined },
): Promise<PubAck> {
  const deadline = Date.now() + context.timeoutMs;
  // The client sets a msgID as a header again on every attempt (a validated set): not needed when the headers carry it.
  const { headers, msgID } = options;
  const setMsgId = msgID !== undefined && !carriesMsgId(headers, msgID);
  let lastError: unknown;
  let recreated = false;
  for (let attempt = 0; ; attempt++) {
    if (context.closed()) throw new MailroomError(ErrorCodes.TRANSPORT_CLOSED, 'The NATS transport is closed; the message was not published');
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    try {
      const timeout = Math.max(50, Math.min(remaining, ATTEMPT_TIMEOUT_MS));
      const sent = context.js.publish(subject, body, setMsgId ? { headers, msgID, timeout } : { headers, timeout });
      // Without a msgID a second copy would be stored: such an attempt waits for its own answer.
      if (msgID === undefined) return await sent;
      const answer = await answerOrResend(sent, context.resend);
      if (answer !== RESEND) return answer;
      sent.catch(() => undefined); // left behind: its answer, if one still comes, is the same message's
    } catch (error) {
      lastError = error;
      if (error instanceof JetStreamApiError || /max_payload|maximum payload/i.test(errorMessage(error))) {
        throw new MailroomError(ErrorCodes.TRANSPORT_PUBLISH_REJECTED, `JetStream refused the message on ${subject}: ${errorMessage(error)}`, { cause: error });
      }
      // No stream answered the subject although connected: the streams were deleted (or JetStream is starting).
      if ((error as Error)?.name === 'JetStreamNotEnabled' && !recreated && context.connected()) {
        recreated = true;
        await context.recreateTopology().catch(() => undefined);
        continue;
      }
      if (context.nc.isClosed() && !context.closed()) break;
      await sleep(Math.min(exponentialDelay(attempt + 1, 100, 1000), Math.max(0, deadline - Date.now())));
    }
  }
  if (context.closed()) throw new MailroomError(ErrorCodes.TRANSPORT_CLOSED, 'The NATS transport is closed; the message was not published');
  const reachable = context.connected();
  throw new MailroomError(
    reachable ? ErrorCodes.TRANSPORT_CONFIRM_TIMEOUT : ErrorCodes.TRANSPORT_UNAVAILABLE,
    reachable
      ? `JetStream did not confirm the message on ${subject} within ${context.timeoutMs} ms; it may or may not be stored (publishing it again with the same id stores it once)`
      : `The NATS server could not be reached within ${context.timeoutMs} ms; the message on ${subject} was not confirmed (${errorMessage(lastError)})`,
    { cause: lastError, details: { subject, timeoutMs: context.timeoutMs } },
  );
}
