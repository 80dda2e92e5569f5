import { MsgHdrsImpl } from '@nats-io/nats-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEAD_LETTER_HEADER, decodeHeaders, ESCAPED_HEADERS, encodeHeaders } from './header-codec.js';

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
});
