import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeJson, encodeJson } from './codec.js';
import { ErrorCodes, isMailroomError } from './errors.js';

const codecCodes: string[] = [ErrorCodes.CODEC_MALFORMED, ErrorCodes.CODEC_TOO_LARGE];

describe('codec', () => {
  it('round-trips every JSON value, and refuses with MAILROOM_ERR_CODEC_MALFORMED those holding a __proto__ or constructor.prototype key', () => {
    /** Whether a value holds a key the codec refuses (fast-check generates `{"__proto__": null}` now and then). */
    const forbidden = (value: unknown): boolean => {
      if (value === null || typeof value !== 'object') return false;
      return Object.entries(value).some(
        ([key, inner]) =>
          key === '__proto__' || (key === 'constructor' && inner !== null && typeof inner === 'object' && 'prototype' in inner) || forbidden(inner),
      );
    };
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const bytes = encodeJson(value);
        if (forbidden(JSON.parse(JSON.stringify(value)))) {
          expect(() => decodeJson(bytes)).toThrow(expect.objectContaining({ code: ErrorCodes.CODEC_MALFORMED }));
          return;
        }
        expect(decodeJson(bytes)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it('turns any byte sequence into a value or a typed codec error, never another exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        try {
          decodeJson(bytes);
        } catch (error) {
          expect(isMailroomError(error)).toBe(true);
          expect(codecCodes).toContain((error as { code: string }).code);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('survives hostile JSON-like text: deep nesting, prototype keys, broken escapes', () => {
    const hostile = fc.oneof(
      fc.string(),
      fc.nat({ max: 50_000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
      fc.constantFrom('{"__proto__":{"polluted":1}}', '{"a":{"constructor":{"prototype":{"x":1}}}}', '"\\ud800"', '{"a":"\\u00', '1e999999', '{"a":1}garbage'),
      fc.jsonValue().map((v) => `${JSON.stringify(v)} `),
    );
    fc.assert(
      fc.property(hostile, (text) => {
        try {
          decodeJson(new TextEncoder().encode(text));
        } catch (error) {
          expect(isMailroomError(error)).toBe(true);
          expect(codecCodes).toContain((error as { code: string }).code);
        }
      }),
      { numRuns: 1000 },
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('rejects __proto__ and constructor.prototype keys', () => {
    for (const text of ['{"__proto__":{"admin":true}}', '{"nested":{"__proto__":{}}}', '{"constructor":{"prototype":{"admin":true}}}']) {
      expect(() => decodeJson(new TextEncoder().encode(text))).toThrow(expect.objectContaining({ code: ErrorCodes.CODEC_MALFORMED }));
    }
  });

  it('checks the size before parsing', () => {
    const oversized = new Uint8Array(2048).fill(0xff); // not even UTF-8: a parse would fail with MALFORMED instead
    expect(() => decodeJson(oversized, 1024)).toThrow(expect.objectContaining({ code: ErrorCodes.CODEC_TOO_LARGE }));
    expect(() => encodeJson({ text: 'x'.repeat(2000) }, 1024)).toThrow(expect.objectContaining({ code: ErrorCodes.CODEC_TOO_LARGE }));
  });

  it('rejects invalid UTF-8 and values JSON cannot hold', () => {
    expect(() => decodeJson(new Uint8Array([0x22, 0xc3, 0x28, 0x22]))).toThrow(expect.objectContaining({ code: ErrorCodes.CODEC_MALFORMED }));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => encodeJson(cyclic)).toThrow(expect.objectContaining({ code: ErrorCodes.CODEC_UNSERIALIZABLE }));
    expect(() => encodeJson({ n: 1n })).toThrow(expect.objectContaining({ code: ErrorCodes.CODEC_UNSERIALIZABLE }));
    expect(() => encodeJson(undefined)).toThrow(expect.objectContaining({ code: ErrorCodes.CODEC_UNSERIALIZABLE }));
  });
});
