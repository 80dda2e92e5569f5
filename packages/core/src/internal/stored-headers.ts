import type { Headers } from '../envelope.js';
import { headersFrom } from './header-values.js';

/** The header a row's stored text is handed out in when it is not a JSON object. */
export const STORED_HEADERS_TEXT = 'mailroom-stored-headers';

/**
 * The headers stored with a message or dead letter (JSON written by a SQL transport). Never throws:
 * values that are not strings (a row written by another program) become strings, and a text that
 * is not a JSON object (a row edited by hand, say) is handed out whole in the
 * `mailroom-stored-headers` header, so the endpoint dead-letters the message as undecodable with
 * its text kept instead of losing it.
 */
export function storedHeaders(text: string): Headers {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return headersFrom(Object.entries(parsed));
  } catch {
    // Handed out as text below.
  }
  return { [STORED_HEADERS_TEXT]: text };
}
