import { isMailroomError } from '@mailroom/core';
import { describe, expect, it } from 'vitest';
import type { AmqpMessage } from './amqp-types.js';
import { RabbitMqErrorCodes } from './errors.js';
import { amqpProperties, assertPublishableHeaders, attemptOf, Bookkeeping, firstFailureOf, userHeaders } from './headers.js';

const message = (headers: Record<string, unknown>, redelivered = false): AmqpMessage => ({
  content: Buffer.alloc(0),
  fields: { deliveryTag: 1, redelivered, exchange: '', routingKey: 'q' },
  properties: { headers },
});

describe('headers', () => {
  it('refuses reserved and over-long header names with MAILROOM_ERR_RABBITMQ_HEADER_INVALID', () => {
    assertPublishableHeaders({ 'ce-id': '1', 'x-custom': 'ok', cc: 'lower case is not special' });
    for (const name of ['x-mailroom-attempts', 'x-death', 'x-delivery-count', 'x-first-death-queue', 'x-last-death-reason', 'CC', 'BCC', 'n'.repeat(256)]) {
      let error: unknown;
      try {
        assertPublishableHeaders({ [name]: 'v' });
      } catch (e) {
        error = e;
      }
      expect(isMailroomError(error, RabbitMqErrorCodes.HEADER_INVALID), name.slice(0, 30)).toBe(true);
    }
  });

  it('counts the bytes of header names and mirrored values in UTF-8, not in characters', () => {
    assertPublishableHeaders({ ['é'.repeat(127)]: 'v' }); // 254 bytes
    expect(() => assertPublishableHeaders({ ['✓'.repeat(86)]: 'v' })).toThrow(/longer than 255 bytes/); // 86 characters, 258 bytes
    expect(amqpProperties({ 'ce-id': 'é'.repeat(127) }).messageId).toBe('é'.repeat(127));
    const properties = amqpProperties({ 'ce-id': '✓'.repeat(86), 'ce-type': '✓'.repeat(85) }); // 258 and 255 bytes
    expect([properties.messageId, properties.type]).toEqual([undefined, '✓'.repeat(85)]);
  });

  it('reserves CC and BCC exactly, and no other name starting with C or B', () => {
    const headers = userHeaders(message({ CC: 'a', BCC: 'b', Cc: 'c', BCCX: 'd', Content: 'e', B: 'f', C: 'g', '': 'h' }));
    expect(headers).toEqual({ Cc: 'c', BCCX: 'd', Content: 'e', B: 'f', C: 'g', '': 'h' });
  });

  it('gives consumers the user headers only, as strings', () => {
    const headers = userHeaders(
      message({
        'ce-id': 'abc',
        'x-unicode': 'ünï ✓',
        [Bookkeeping.attempts]: '2',
        'x-death': [{ count: 1 }],
        'x-delivery-count': 3,
        'x-first-death-queue': 'q',
        bytes: Buffer.from('héllo'),
        number: 7,
        table: { a: 1 },
      }),
    );
    expect(headers).toEqual({ 'ce-id': 'abc', 'x-unicode': 'ünï ✓', bytes: 'héllo', number: '7', table: '{"a":1}' });
  });

  it('counts attempts from the carried count plus the broker redeliveries of this copy', () => {
    expect(attemptOf(message({}))).toBe(1);
    expect(attemptOf(message({}, true))).toBe(2);
    expect(attemptOf(message({ [Bookkeeping.attempts]: '3' }))).toBe(4);
    expect(attemptOf(message({ [Bookkeeping.attempts]: '3', 'x-delivery-count': 2 }, true))).toBe(6);
    expect(attemptOf(message({ [Bookkeeping.attempts]: 'garbage' }))).toBe(1);
    expect(firstFailureOf(message({ [Bookkeeping.firstFailureAt]: '1700000000000' }))?.toISOString()).toBe('2023-11-14T22:13:20.000Z');
    expect(firstFailureOf(message({}))).toBeUndefined();
  });

  it('mirrors content type, id and type into the AMQP properties when they fit', () => {
    expect(amqpProperties({ 'content-type': 'application/json', 'ce-id': 'id-1', 'ce-type': 'OrderPlaced' })).toMatchObject({
      contentType: 'application/json',
      messageId: 'id-1',
      type: 'OrderPlaced',
    });
    expect(amqpProperties({ 'ce-id': 'x'.repeat(300) }).messageId).toBeUndefined();
  });

  it('ignores forged bookkeeping: absurd carried counts and first-failure times', () => {
    for (const forged of ['1e300', '-5', 'abc', '99999999999999999', 1e300, Number.NaN]) {
      expect(attemptOf(message({ [Bookkeeping.attempts]: forged })), String(forged)).toBe(1);
    }
    for (const forged of ['99999999999999999', 1e17, '-1', 'soon', 8.64e15, Date.now() + 7 * 24 * 3600_000]) {
      expect(firstFailureOf(message({ [Bookkeeping.firstFailureAt]: forged })), String(forged)).toBeUndefined();
    }
  });

  it('keeps a __proto__ header as a plain header', () => {
    const headers = userHeaders(message(JSON.parse('{"__proto__": "p", "ce-id": "1"}')));
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
    expect(Object.keys(headers).sort()).toEqual(['__proto__', 'ce-id']);
  });
});

describe('envelope forms', () => {
  const envelope = {
    'ce-id': '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
    'ce-source': 'urn:mailroom:orders',
    'ce-type': 'OrderPlaced',
    'ce-specversion': '1.0',
    'ce-time': '2026-12-06T05:59:35.123Z',
    'content-type': 'application/json',
    'ce-dataversion': '3',
    'ce-correlationid': 'corr-1',
    'ce-causationid': 'cause-1',
    'ce-traceparent': '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    'ce-tracestate': 'vendor=1',
    'x-user': 'u',
  };
  /** What a consumer gets back from the properties a publisher wrote (as amqplib hands them over). */
  const received = (properties: ReturnType<typeof amqpProperties>): Record<string, string> => {
    const { headers, ...rest } = properties;
    return userHeaders({ ...message(headers), properties: { ...rest, headers } });
  };

  it('gives back every attribute in both forms', () => {
    for (const form of ['compact', 'full'] as const) expect(received(amqpProperties(envelope, form)), form).toEqual(envelope);
  });

  it('writes five attributes as AMQP properties and three as one packed entry in the compact form', () => {
    const properties = amqpProperties(envelope, 'compact');
    expect(properties).toMatchObject({
      messageId: envelope['ce-id'],
      type: 'OrderPlaced',
      contentType: 'application/json',
      correlationId: 'corr-1',
      appId: 'urn:mailroom:orders',
    });
    expect(properties.headers).toEqual({
      [Bookkeeping.envelope]: `1 1.0 3 ${envelope['ce-time']}`,
      'ce-causationid': 'cause-1',
      'ce-traceparent': envelope['ce-traceparent'],
      'ce-tracestate': 'vendor=1',
      'x-user': 'u',
    });
    expect(Object.keys(amqpProperties(envelope, 'full').headers)).toEqual(Object.keys(envelope));
  });

  it('keeps in the table what a property or the packed entry cannot carry, and restores it from there', () => {
    const odd = { ...envelope, 'ce-id': 'i'.repeat(256), 'ce-source': '', 'ce-time': '2026-12-06 05:59:35Z', 'ce-type': '✓'.repeat(86) };
    const properties = amqpProperties(odd, 'compact');
    expect(properties.messageId).toBeUndefined();
    expect(properties.appId).toBeUndefined();
    expect(properties.type).toBeUndefined();
    expect(properties.headers).toMatchObject({ 'ce-id': odd['ce-id'], 'ce-source': '', 'ce-time': odd['ce-time'], 'ce-type': odd['ce-type'] });
    expect(properties.headers[Bookkeeping.envelope]).toBe('1 1.0 3 ');
    expect(received(properties)).toEqual(odd);
    const proto = JSON.parse('{"ce-id": "1", "__proto__": "p"}');
    expect(amqpProperties(proto, 'compact').headers).toEqual(JSON.parse(`{"${Bookkeeping.envelope}": "1   ", "__proto__": "p"}`));
    expect(received(amqpProperties(proto, 'compact'))).toEqual(proto);
  });

  it('lets a header in the table win over a property, and reads a message without the marker as the full form', () => {
    const withMarker: AmqpMessage = {
      ...message({ [Bookkeeping.envelope]: '1 1.0 2 2026-01-01T00:00:00Z', 'ce-type': 'FromTable', 'ce-dataversion': '7' }),
      properties: {
        headers: { [Bookkeeping.envelope]: '1 1.0 2 2026-01-01T00:00:00Z', 'ce-type': 'FromTable', 'ce-dataversion': '7' },
        type: 'FromProperty',
        messageId: 'm',
      },
    };
    expect(userHeaders(withMarker)).toEqual({
      'ce-type': 'FromTable',
      'ce-dataversion': '7',
      'ce-id': 'm',
      'ce-specversion': '1.0',
      'ce-time': '2026-01-01T00:00:00Z',
    });
    const fullForm: AmqpMessage = { ...message({ 'ce-id': 'a' }), properties: { headers: { 'ce-id': 'a' }, type: 'T', appId: 'other-tool' } };
    expect(userHeaders(fullForm)).toEqual({ 'ce-id': 'a' });
  });

  it('restores no packed attribute from a marker that does not parse (the envelope is then invalid, not guessed)', () => {
    for (const marker of ['garbage', '2 1.0 1 2026-01-01T00:00:00Z', '1 1.0 1', '1 1.0 1 t extra', { table: 1 }, 7]) {
      const headers = userHeaders({ ...message({}), properties: { headers: { [Bookkeeping.envelope]: marker }, messageId: 'm' } });
      expect(headers, JSON.stringify(marker)).toEqual({ 'ce-id': 'm' });
    }
  });

  it('refuses a user header named like the marker', () => {
    expect(() => assertPublishableHeaders({ [Bookkeeping.envelope]: '1 1.0 1 t' })).toThrow(/reserved/);
  });
});
