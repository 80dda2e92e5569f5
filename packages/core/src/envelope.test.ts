import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEnvelope, envelopeToHeaders, HeaderNames, readEnvelope } from './envelope.js';
import { ErrorCodes, isMailroomError } from './errors.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('envelope', () => {
  it('creates CloudEvents 1.0 envelopes with UUIDv7 ids that sort by creation', () => {
    const a = createEnvelope({ type: 'OrderPlaced', dataversion: 2, source: 'urn:mailroom:orders' });
    const b = createEnvelope({ type: 'OrderPlaced', dataversion: 2, source: 'urn:mailroom:orders' });
    expect(a.id).toMatch(UUID_V7);
    expect(a.id < b.id).toBe(true);
    expect(a).toMatchObject({ specversion: '1.0', datacontenttype: 'application/json', dataversion: 2, correlationid: a.id });
    expect(Number.isNaN(Date.parse(a.time))).toBe(false);
  });

  it('round-trips through binary-mode headers', () => {
    const envelope = createEnvelope({
      type: 'shop.OrderPlaced',
      dataversion: 3,
      source: 'urn:mailroom:gateway',
      correlationid: 'op-1',
      causationid: 'msg-0',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
    const headers = envelopeToHeaders(envelope, { 'x-tenant': 'acme', [HeaderNames.id]: 'overridden?' });
    expect(headers[HeaderNames.id]).toBe(envelope.id);
    expect(headers['x-tenant']).toBe('acme');
    expect(readEnvelope(headers)).toEqual(envelope);
  });

  it('reads any header map into an envelope or a typed error, never another exception', () => {
    const valid = envelopeToHeaders(createEnvelope({ type: 'T', dataversion: 1, source: 's' }));
    const headerMaps = fc.oneof(
      fc.dictionary(fc.string(), fc.string()),
      fc.record({ key: fc.constantFrom(...Object.keys(valid)), value: fc.string() }).map(({ key, value }) => ({ ...valid, [key]: value })),
      fc.constantFrom(...Object.keys(valid)).map((key) => {
        const copy = { ...valid };
        delete copy[key];
        return copy;
      }),
    );
    fc.assert(
      fc.property(headerMaps, (headers) => {
        try {
          const envelope = readEnvelope(headers);
          expect(envelope.specversion).toBe('1.0');
          expect(Number.isSafeInteger(envelope.dataversion)).toBe(true);
        } catch (error) {
          expect(isMailroomError(error)).toBe(true);
          expect([ErrorCodes.ENVELOPE_INVALID, ErrorCodes.CODEC_TOO_LARGE]).toContain((error as { code: string }).code);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('names the missing or malformed header', () => {
    const headers = envelopeToHeaders(createEnvelope({ type: 'T', dataversion: 1, source: 's' }));
    expect(() => readEnvelope({ ...headers, [HeaderNames.dataversion]: '1.5' })).toThrow(/ce-dataversion/);
    expect(() => readEnvelope({ ...headers, [HeaderNames.time]: 'yesterday' })).toThrow(/ce-time/);
    expect(() => readEnvelope({ ...headers, 'content-type': 'text/xml' })).toThrow(/content type/);
    const { [HeaderNames.id]: _, ...noId } = headers;
    expect(() => readEnvelope(noId)).toThrow(/ce-id/);
    expect(() => readEnvelope({ ...headers, big: 'x'.repeat(70_000) })).toThrow(expect.objectContaining({ code: ErrorCodes.CODEC_TOO_LARGE }));
  });

  it("defaults a foreign producer's missing correlation id to the message id and drops a malformed traceparent", () => {
    const headers = envelopeToHeaders(createEnvelope({ type: 'T', dataversion: 1, source: 's' }));
    delete headers[HeaderNames.correlationid];
    headers[HeaderNames.traceparent] = 'not-a-trace';
    const envelope = readEnvelope(headers);
    expect(envelope.correlationid).toBe(envelope.id);
    expect(envelope.traceparent).toBeUndefined();
  });
});
