import type { Headers } from '@mailroom/core';
import { type MsgHdrs, MsgHdrsImpl } from '@nats-io/nats-core';

/** Header carrying, as JSON pairs, the Mailroom headers that NATS cannot carry as they are. */
export const ESCAPED_HEADERS = 'Mailroom-Headers';

/** Header of a scheduled message: when it is due, in epoch milliseconds (see `NatsSubscription`'s hold). */
export const DELIVER_AT_HEADER = 'Mailroom-Deliver-At';

/** The due time of a scheduled message (its {@link DELIVER_AT_HEADER} value); undefined for a message to deliver now. */
function deliverAtOf(value: string | undefined): number | undefined {
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

/** What `MsgHdrs.append` accepts and keeps as it is: a valid name, a value without CR/LF and nothing to trim. */
function isPlain(name: string, value: string): boolean {
  // NATS trims values and forbids CR/LF, so such values could not come back byte for byte.
  return NATIVE_NAME.test(name) && !/[\r\n]/.test(value) && value === value.trim();
}

function isNative(name: string, value: string): boolean {
  return isPlain(name, value) && !RESERVED.test(name);
}

/**
 * Writes Mailroom headers as NATS headers, guaranteeing `decodeHeaders` gives them back exactly:
 * plain ones as native headers (readable with the `nats` CLI), the rest (surrounding whitespace,
 * line breaks, names NATS refuses or reserves) as JSON in one `Mailroom-Headers` header.
 * `extra` adds bookkeeping headers, which `decodeHeaders` drops (replacing a header of the same
 * name), such as the `Nats-Msg-Id` that `publishDurably` then finds in place instead of setting it.
 */
export function encodeHeaders(headers: Headers, extra?: Record<string, string>): MsgHdrs {
  // Written into the client's own map of the headers: `isNative` already checked what
  // `MsgHdrs.append` would (name characters, no CR/LF, nothing to trim), and append's
  // canonical-name copy and key scan cost more than the rest of the encoding.
  const result = new MsgHdrsImpl();
  const native = result.headers;
  let escaped: [string, string][] | undefined;
  for (const name of Object.keys(headers)) {
    const value = headers[name] as string;
    if (isNative(name, value)) native.set(name, [value]);
    else (escaped ??= []).push([name, value]);
  }
  // JSON has no raw CR/LF and starts and ends with a bracket: a valid value as it is.
  if (escaped !== undefined) native.set(ESCAPED_HEADERS, [JSON.stringify(escaped)]);
  if (extra !== undefined) {
    for (const name of Object.keys(extra)) {
      const value = extra[name] as string;
      // What the client would trim or refuse goes through its own checks (and fails as they do).
      if (isPlain(name, value)) native.set(name, [value]);
      else result.set(name, value);
    }
  }
  return result;
}

/**
 * Reads Mailroom headers back from NATS headers, without the transport's bookkeeping headers
 * (`Nats-*`, `Mailroom-*`). Never throws: a malformed escaped-headers value is ignored.
 */
export function decodeHeaders(headers: MsgHdrs | undefined): Headers {
  return readHeaders(headers).headers;
}

/** What a received message's NATS headers say: its Mailroom headers (see {@link decodeHeaders}) and, for a scheduled message, when it is due. */
export interface ReadHeaders {
  readonly headers: Headers;
  /** Epoch milliseconds of its {@link DELIVER_AT_HEADER}; undefined for a message to deliver now. */
  readonly deliverAt: number | undefined;
}

/** {@link decodeHeaders} and the due time of a scheduled message, in one pass over the headers. */
export function readHeaders(headers: MsgHdrs | undefined): ReadHeaders {
  const result: Headers = {};
  if (!headers) return { headers: result, deliverAt: undefined };
  let escaped: string | undefined;
  let deliverAt: string | undefined;
  for (const [name, values] of headers) {
    if (values.length === 0) continue;
    if (!RESERVED.test(name)) define(result, name, values[0] as string);
    else if (name === ESCAPED_HEADERS) escaped = values[0];
    else if (name === DELIVER_AT_HEADER) deliverAt = values[0];
  }
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
  return { headers: result, deliverAt: deliverAtOf(deliverAt) };
}

// A header named `__proto__` is defined rather than assigned, so it stays a plain header.
function define(target: Headers, name: string, value: string): void {
  if (name === '__proto__') Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
  else target[name] = value;
}
