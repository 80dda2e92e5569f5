import { ErrorCodes, isMailroomError } from '@mailroom/core';
import { describe, expect, it } from 'vitest';
import { NatsErrorCodes } from './errors.js';
import { createNatsNames, isValidPrefix } from './nats-names.js';

const names = createNatsNames('mailroom');

describe('NATS names', () => {
  it('derives streams and subjects from the prefix and contract types', () => {
    expect([names.eventsStream, names.commandsStream, names.deadLettersStream]).toEqual(['MAILROOM_EVENTS', 'MAILROOM_COMMANDS', 'MAILROOM_DEAD_LETTERS']);
    expect(names.eventSubject('orders.OrderPlaced')).toBe('mailroom.event.orders.OrderPlaced');
    expect(names.commandSubject('billing.v2', 'billing.Charge')).toBe('mailroom.command.billing=v2.billing.Charge');
    expect(names.commandFilter('billing.v2')).toBe('mailroom.command.billing=v2.>');
    expect(names.deadLetterFilter(undefined, 'orders.OrderPlaced')).toBe('mailroom.dlq.*.orders.OrderPlaced');
    expect(names.deadLetterFilter()).toBe('mailroom.dlq.*.>');
  });

  it('keeps endpoints with dots apart from their prefixes, and reads them back', () => {
    // `a.b` must not match the filter of endpoint `a`.
    expect(names.commandSubject('a.b', 'T').startsWith(names.commandFilter('a').slice(0, -1))).toBe(false);
    expect(names.parseSubject(names.commandSubject('a.b', 'x.T'))).toEqual({ endpoint: 'a.b', type: 'x.T' });
    expect(names.parseSubject(names.deadLetterSubject('shop-api', 'T'))).toEqual({ endpoint: 'shop-api', type: 'T' });
    expect(names.parseSubject('other.command.a.T')).toBeUndefined();
  });

  it('names consumers so their endpoint can be read back, hashing very long ones', () => {
    expect(names.eventConsumer('a.b', 'orders.Placed')).toBe('a=b_E_orders=Placed');
    expect(names.consumerEndpoint('a=b_E_orders=Placed')).toBe('a.b');
    expect(names.consumerEndpoint(names.commandConsumer('a.b'))).toBe('a.b');
    const long = names.eventConsumer('e'.repeat(100), `T${'x'.repeat(150)}`);
    expect(long.length).toBeLessThanOrEqual(200);
    expect(names.consumerEndpoint(long)).toBe('e'.repeat(100));
    expect(names.consumerEndpoint('SomeoneElse')).toBeUndefined();
  });

  it('refuses types that cannot be subjects and bad prefixes with typed errors', () => {
    for (const type of ['a..b', 'a.', 'a b', 'a*']) {
      expect(() => names.eventSubject(type)).toThrow(expect.objectContaining({ code: NatsErrorCodes.NATS_SUBJECT_INVALID }));
    }
    expect(() => names.commandSubject('Upper', 'T')).toSatisfy((fn: () => unknown) => {
      try {
        fn();
        return false;
      } catch (error) {
        return isMailroomError(error, NatsErrorCodes.NATS_SUBJECT_INVALID);
      }
    });
    expect(isValidPrefix('mailroom')).toBe(true);
    expect(isValidPrefix('Mailroom')).toBe(false);
    expect(isValidPrefix('a.b')).toBe(false);
    expect(ErrorCodes.TRANSPORT_CONFIG).toBe('MAILROOM_ERR_TRANSPORT_CONFIG');
  });
});
