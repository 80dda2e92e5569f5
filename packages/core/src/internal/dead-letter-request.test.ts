import { describe, expect, it } from 'vitest';
import { boundedText, deliveryLimitRequest, plausibleDate, safeDeadLetterRequest } from './dead-letter-request.js';
import { headersFrom } from './header-values.js';

describe('dead-letter requests every transport can store', () => {
  it('cuts long texts and says so', () => {
    expect(boundedText('short', 10)).toBe('short');
    expect(boundedText('x'.repeat(20), 10)).toBe(`${'x'.repeat(10)}… [10 more characters cut]`);
  });

  it('accepts only real, plausible dates', () => {
    const now = Date.parse('2026-12-05T00:00:00Z');
    expect(plausibleDate(1_700_000_000_000, now)?.toISOString()).toBe('2023-11-14T22:13:20.000Z');
    expect(plausibleDate('1700000000000', now)?.getTime()).toBe(1_700_000_000_000);
    for (const bad of [1e17, '99999999999999999', -1, Number.NaN, 'soon', '', new Date(Number.NaN), now + 2 * 86_400_000, undefined, null, {}]) {
      expect(plausibleDate(bad, now), String(bad)).toBeUndefined();
    }
  });

  it('turns any request into one whose dates serialize and whose texts are bounded', () => {
    const now = new Date('2026-12-05T00:00:00Z');
    const safe = safeDeadLetterRequest(
      {
        reason: 'MAILROOM_ERR_X\u0000\n',
        errorMessage: 'm'.repeat(50_000),
        errorStack: 's'.repeat(50_000),
        attempts: Number.NaN,
        firstFailureAt: new Date(1e17),
        lastFailureAt: new Date(Number.NaN),
      },
      now,
    );
    expect(safe.reason).toBe('MAILROOM_ERR_X  ');
    expect(safe.errorMessage.length).toBeLessThan(8300);
    expect(safe.errorStack?.length).toBeLessThan(16_500);
    expect(safe.attempts).toBe(1);
    expect(safe.lastFailureAt.toISOString()).toBe(now.toISOString());
    expect(safe.firstFailureAt.toISOString()).toBe(now.toISOString());
    const later = safeDeadLetterRequest(
      { reason: '', errorMessage: 'x', attempts: 3, firstFailureAt: new Date(now.getTime() + 1000), lastFailureAt: now },
      now,
    );
    expect(later.reason).toBe('MAILROOM_ERR_HANDLER_FAILED');
    expect(later.firstFailureAt.getTime()).toBe(now.getTime());
  });

  it('describes a message parked at the delivery bound', () => {
    const request = deliveryLimitRequest(6, 5, undefined, new Date('2026-12-05T00:00:00Z'));
    expect(request).toMatchObject({ reason: 'MAILROOM_ERR_TRANSPORT_DELIVERY_LIMIT', attempts: 6 });
    expect(request.errorMessage).toMatch(/Delivered 6 times, more than maxDeliveries \(5\)/);
  });

  it('builds headers from values of any type, a __proto__ name included', () => {
    const headers = headersFrom([
      ['a', 'x'],
      ['n', 7],
      ['b', Buffer.from('héllo')],
      ['t', { k: [1] }],
      ['none', null],
      ['__proto__', 'p'],
    ]);
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
    expect({ ...headers }).toEqual({ a: 'x', n: '7', b: 'héllo', t: '{"k":[1]}', ['__proto__']: 'p' });
  });
});
