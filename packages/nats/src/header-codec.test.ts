import { MsgHdrsImpl, headers as natsHeaders } from '@nats-io/nats-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEAD_LETTER_HEADER, DELIVER_AT_HEADER, decodeHeaders, ESCAPED_HEADERS, encodeHeaders, readHeaders } from './header-codec.js';

describe('header codec', () => {
  it('gives any headers back exactly, bookkeeping headers removed', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1 }), fc.string()), (headers) => {
        const encoded = encodeHeaders(headers, { [DEAD_LETTER_HEADER]: '{"x":1}', 'Nats-Msg-Id': 'id' });
        // Through the wire format and back, as a consumer would read it.
        const decoded = decodeHeaders(MsgHdrsImpl.decode((encoded as MsgHdrsImpl).encode()));
        expect(decoded).toEqual(headers);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps plain headers native and escapes what NATS would trim, refuse or interpret', () => {
    const encoded = encodeHeaders({ 'ce-id': 'abc', 'x-space': ' ', 'x-line': 'a\nb', 'nats-rollup': 'all', 'a:b': 'c' });
    expect(encoded.get('ce-id')).toBe('abc');
    expect(encoded.has('nats-rollup')).toBe(false);
    expect(JSON.parse(encoded.get(ESCAPED_HEADERS)).map(([name]: [string]) => name)).toEqual(['x-space', 'x-line', 'nats-rollup', 'a:b']);
  });

  it('ignores a malformed escaped-headers value from a foreign producer', () => {
    const encoded = encodeHeaders({ a: 'b' }, { [ESCAPED_HEADERS]: 'not json' });
    expect(decodeHeaders(encoded)).toEqual({ a: 'b' });
    expect(decodeHeaders(undefined)).toEqual({});
  });

  it("writes the bytes the client's own validating append would, for every header it would accept", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1 }), fc.string()), (headers) => {
        const encoded = encodeHeaders(headers) as MsgHdrsImpl;
        const reference = natsHeaders();
        for (const [name, values] of encoded) for (const value of values) reference.append(name, value);
        expect(new TextDecoder().decode(encoded.encode())).toBe(new TextDecoder().decode((reference as MsgHdrsImpl).encode()));
      }),
      { numRuns: 300 },
    );
  });

  it('reads a __proto__ header back as a plain header, and the due time of a scheduled message', () => {
    const headers = Object.defineProperty({ a: 'b' }, '__proto__', { value: 'p', enumerable: true, writable: true, configurable: true });
    const read = readHeaders(MsgHdrsImpl.decode((encodeHeaders(headers, { [DELIVER_AT_HEADER]: '1700000000000' }) as MsgHdrsImpl).encode()));
    expect(Object.getPrototypeOf(read.headers)).toBe(Object.prototype);
    expect(Object.entries(read.headers)).toEqual([
      ['a', 'b'],
      ['__proto__', 'p'],
    ]);
    expect(read.deliverAt).toBe(1_700_000_000_000);
    expect(readHeaders(encodeHeaders({ a: 'b' })).deliverAt).toBeUndefined();
  });
});
