import { ErrorCodes, HeaderNames, type Headers, isMailroomError } from '@mailroom/core';
import { boundedText } from '@mailroom/core/internal';
import type { MsgHdrs } from '@nats-io/nats-core';
import type { DeadLetterObjects } from './dead-letter-objects.js';
import { DEAD_LETTER_HEADER, DEAD_LETTER_OBJECTS_HEADER, encodeHeaders } from './header-codec.js';

/** The failure details a dead letter carries in its `Mailroom-Dead-Letter` header. */
export interface DeadLetterFailure {
  readonly endpoint: string;
  readonly reason: string;
  readonly errorMessage: string;
  readonly errorStack: string | undefined;
  readonly attempts: number;
  readonly firstFailureAt: string;
  readonly lastFailureAt: string;
  readonly source: { readonly subject: string; readonly stream: string; readonly consumer: string; readonly sequence: number };
}

/** Which objects of the dead-letter object store hold a dead letter's body and headers. */
export interface DeadLetterObjectRefs {
  readonly body: string;
  readonly headers?: string;
}

/** What {@link writeDeadLetter} needs. */
export interface DeadLetterWriteContext {
  /** Publishes durably to the dead-letter stream (see `publishDurably`). */
  publish(subject: string, body: Uint8Array, headers: MsgHdrs, msgID: string): Promise<void>;
  readonly objects: DeadLetterObjects;
}

/** One dead letter to store. */
export interface DeadLetterWrite {
  readonly subject: string;
  /** Deduplicates: one dead letter per stored message, even when a lost `term` makes it come back. */
  readonly msgID: string;
  readonly headers: Headers;
  readonly body: Uint8Array;
  readonly failure: DeadLetterFailure;
}

const EMPTY = new Uint8Array();

/** True when the server refused a publish for its size: `max_payload`, or JetStream's 64 KiB of headers. */
function tooLarge(error: unknown): boolean {
  return isMailroomError(error, ErrorCodes.TRANSPORT_PUBLISH_REJECTED) && /max_payload|maximum payload|header size exceeds/i.test(error.message);
}

/**
 * Stores a dead letter in the dead-letter stream: headers and body byte for byte with the failure
 * details in a header. When that copy is too large (it passes the server's `max_payload`, or
 * JetStream's 64 KiB of headers: the original was just under, the details push it over), the body
 * goes to the dead-letter object store and the letter refers to it; when the headers with the
 * details are still too large, the headers go there too and the letter keeps `ce-id`, `ce-type`
 * and the details cut to 500 characters. Reading the
 * letter (`deadLetters.get/list`) restores the body and headers, so nothing is lost. Rejects only
 * for failures unrelated to size (the server is unreachable, the stream refuses it).
 */
export async function writeDeadLetter(context: DeadLetterWriteContext, letter: DeadLetterWrite): Promise<void> {
  const { subject, msgID, headers, body, failure } = letter;
  try {
    await context.publish(subject, body, encodeHeaders(headers, { [DEAD_LETTER_HEADER]: JSON.stringify(failure) }), msgID);
    return;
  } catch (error) {
    if (!tooLarge(error)) throw error;
  }
  const bodyObject = objectName(msgID, 'body');
  await context.objects.put(bodyObject, subject, body);
  const byReference: DeadLetterObjectRefs = { body: bodyObject };
  try {
    const extra = { [DEAD_LETTER_HEADER]: JSON.stringify(failure), [DEAD_LETTER_OBJECTS_HEADER]: JSON.stringify(byReference) };
    await context.publish(subject, EMPTY, encodeHeaders(headers, extra), msgID);
    return;
  } catch (error) {
    if (!tooLarge(error)) throw error;
  }
  const headersObject = objectName(msgID, 'headers');
  await context.objects.put(headersObject, subject, new TextEncoder().encode(JSON.stringify(headers)));
  const summary: Headers = {};
  for (const name of [HeaderNames.id, HeaderNames.type]) {
    const value = headers[name];
    if (value !== undefined) summary[name] = boundedText(value, 256);
  }
  const cut = { ...failure, errorMessage: boundedText(failure.errorMessage, 500), errorStack: undefined };
  const refs: DeadLetterObjectRefs = { body: bodyObject, headers: headersObject };
  await context.publish(
    subject,
    EMPTY,
    encodeHeaders(summary, { [DEAD_LETTER_HEADER]: JSON.stringify(cut), [DEAD_LETTER_OBJECTS_HEADER]: JSON.stringify(refs) }),
    msgID,
  );
}

function objectName(msgID: string, part: 'body' | 'headers'): string {
  return `${msgID}:${part}`;
}
