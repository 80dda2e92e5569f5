import type { Headers } from '@mailroom/core';
import { type MsgHdrs, headers as natsHeaders } from '@nats-io/nats-core';

/** Header carrying, as JSON pairs, the Mailroom headers that NATS cannot carry as they are. */
export const ESCAPED_HEADERS = 'Mailroom-Headers';

/** Header of a scheduled message: when it is due, in epoch milliseconds (see `NatsSubscription`'s hold). */
export const DELIVER_AT_HEADER = 'Mailroom-Deliver-At';

/** The due time of a scheduled message (its {@link DELIVER_AT_HEADER}); undefined for a message to deliver now. */
export function deliverAtOf(headers: MsgHdrs | undefined): number | undefined {
  const value = headers?.get(DELIVER_AT_HEADER);
  if (!value) return undefined;
  const at = Number(value);
  return Number.isFinite(at) ? at : undefined;
}

/** Header of a dead letter carrying its failure details as JSON. */
export const DEAD_LETTER_HEADER = 'Mailroom-Dead-Letter';

/**
 * Header of a dead letter whose body (and perhaps headers) is kept in the dead-letter object store,
 * as JSON `{ "body": <object name>, "headers"?: <object name> }` (see `DeadLetterObjects`).
 */
export const DEAD_LETTER_OBJECTS_HEADER = 'Mailroom-Dead-Letter-Objects';

// Names NATS reserves (Nats-Msg-Id, Nats-Rollup...) or that the transport uses for its bookkeeping.
const RESERVED = /^(?:nats|mailroom)-/i;
// NATS header names are printable ASCII without ':'.
const NATIVE_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

function isNative(name: string, value: string): boolean {
  // NATS trims values and forbids CR/LF, so such values could not come back byte for byte.
  return NATIVE_NAME.test(name) && !RESERVED.test(name) && !/[\r\n]/.test(value) && value === value.trim();
}

/**
 * Writes Mailroom headers as NATS headers, guaranteeing `decodeHeaders` gives them back exactly:
 * plain ones as native headers (readable with the `nats` CLI), the rest (surrounding whitespace,
 * line breaks, names NATS refuses or reserves) as JSON in one `Mailroom-Headers` header.
 * `extra` adds bookkeeping headers, which `decodeHeaders` drops.
 */
export function encodeHeaders(headers: Headers, extra: Record<string, string> = {}): MsgHdrs {
  const result = natsHeaders();
  const escaped: [string, string][] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (isNative(name, value)) result.append(name, value);
    else escaped.push([name, value]);
  }
  if (escaped.length > 0) result.set(ESCAPED_HEADERS, JSON.stringify(escaped));
  for (const [name, value] of Object.entries(extra)) result.set(name, value);
  return result;
}

/**
 * Reads Mailroom headers back from NATS headers, without the transport's bookkeeping headers
 * (`Nats-*`, `Mailroom-*`). Never throws: a malformed escaped-headers value is ignored.
 */
export function decodeHeaders(headers: MsgHdrs | undefined): Headers {
  const result: Headers = {};
  if (!headers) return result;
  for (const [name, values] of headers) {
    if (!RESERVED.test(name) && values.length > 0) define(result, name, values[0] as string);
  }
  const escaped = headers.get(ESCAPED_HEADERS);
  if (escaped) {
    try {
      const pairs: unknown = JSON.parse(escaped);
      if (Array.isArray(pairs)) {
        for (const pair of pairs) {
          if (Array.isArray(pair) && typeof pair[0] === 'string' && typeof pair[1] === 'string') define(result, pair[0], pair[1]);
        }
      }
    } catch {
      // A foreign producer wrote something else under our name: keep the native headers only.
    }
  }
  return result;
}

// A header named `__proto__` is defined rather than assigned, so it stays a plain header.
function define(target: Headers, name: string, value: string): void {
  if (name === '__proto__') Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
  else target[name] = value;
}
