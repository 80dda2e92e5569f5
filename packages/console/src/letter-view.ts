import { type DeadLetter, HeaderNames, TRACEPARENT_PATTERN } from '@mailroom/core';
import type { ArchivedLetter } from './archive-store.js';

/** The header an edited-and-resent message carries: the id of the message it was edited from. */
export const EDITED_FROM_HEADER = 'mailroom-edited-from';

/** A dead letter as the console's API shows it: the body decoded (and pretty-printed when it is JSON), the trace id pulled out of `traceparent`. */
export interface LetterView {
  readonly id: string;
  readonly endpoint: string;
  readonly messageId: string;
  readonly type: string;
  readonly headers: Record<string, string>;
  /** The body as UTF-8, pretty-printed when it parses as JSON. */
  readonly body: string;
  readonly bodyIsJson: boolean;
  readonly reason: string;
  readonly errorMessage: string;
  readonly errorStack: string | undefined;
  readonly attempts: number;
  readonly firstFailureAt: string;
  readonly lastFailureAt: string;
  readonly deadLetteredAt: string;
  readonly traceId: string | undefined;
  /** The message this one was edited from (header `mailroom-edited-from`), when it is a resent edit. */
  readonly editedFrom: string | undefined;
}

function decodeBody(body: Uint8Array): { body: string; bodyIsJson: boolean } {
  const text = Buffer.from(body).toString('utf8');
  try {
    return { body: JSON.stringify(JSON.parse(text), null, 2), bodyIsJson: true };
  } catch {
    return { body: text, bodyIsJson: false };
  }
}

/** The trace id of a `traceparent` header, when it is a valid one. */
export function traceIdOf(headers: Record<string, string>): string | undefined {
  return TRACEPARENT_PATTERN.exec(headers[HeaderNames.traceparent] ?? '')?.[2];
}

/** A dead letter (or an archived one) as the API returns it. */
export function letterView(letter: DeadLetter | ArchivedLetter): LetterView {
  const archived = 'bodyBase64' in letter;
  const bytes = archived ? Buffer.from(letter.bodyBase64, 'base64') : letter.body;
  const iso = (d: Date | string) => (typeof d === 'string' ? d : d.toISOString());
  return {
    id: letter.id,
    endpoint: letter.endpoint,
    messageId: letter.messageId,
    type: letter.type,
    headers: { ...letter.headers },
    ...decodeBody(bytes),
    reason: letter.reason,
    errorMessage: letter.errorMessage,
    errorStack: letter.errorStack,
    attempts: letter.attempts,
    firstFailureAt: iso(letter.firstFailureAt),
    lastFailureAt: iso(letter.lastFailureAt),
    deadLetteredAt: iso(letter.deadLetteredAt),
    traceId: traceIdOf(letter.headers),
    editedFrom: letter.headers[EDITED_FROM_HEADER],
  };
}
