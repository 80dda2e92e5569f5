import type { Headers } from '../envelope.js';

/**
 * A header value a broker client handed over, as the string Mailroom headers hold: strings as they
 * are, bytes as UTF-8, numbers, bigints and booleans in decimal, anything else as JSON. Undefined
 * for `null` and `undefined` (no header). Never throws.
 */
export function headerValueString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return undefined;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Mailroom headers from name/value pairs of any types (see {@link headerValueString}). A header named
 * `__proto__` stays a plain header (defined, not assigned), so foreign headers never change the
 * object's prototype.
 */
export function headersFrom(entries: Iterable<readonly [string, unknown]>): Headers {
  const headers: Headers = {};
  for (const [name, raw] of entries) {
    const value = headerValueString(raw);
    if (value === undefined) continue;
    if (name === '__proto__') Object.defineProperty(headers, name, { value, enumerable: true, writable: true, configurable: true });
    else headers[name] = value;
  }
  return headers;
}
