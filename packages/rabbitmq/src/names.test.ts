import { ErrorCodes, isMailroomError } from '@mailroom/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RabbitMqErrorCodes } from './errors.js';
import {
  assertQueueName,
  canScheduleEvent,
  DELAY_LEVELS,
  DELAY_UNIT_MS,
  delayRoute,
  deliverPattern,
  levelPatterns,
  levelTtlMs,
  MAX_DELAY_MS,
  scheduledEventPattern,
  scheduledEventTail,
} from './names.js';

/** RabbitMQ's topic matching: `*` is exactly one word, `#` zero or more. */
function topicMatches(pattern: string, key: string): boolean {
  const match = (p: string[], k: string[]): boolean => {
    if (p.length === 0) return k.length === 0;
    const [head, ...rest] = p as [string, ...string[]];
    if (head === '#') return match(rest, k) || (k.length > 0 && match(p, k.slice(1)));
    return k.length > 0 && (head === '*' || head === k[0]) && match(rest, k.slice(1));
  };
  return match(pattern.split('.'), key.split('.'));
}

/** Follows a routing key through the delay exchanges as RabbitMQ would: the levels it waits in, then whether `queue` receives it. */
function travel(routingKey: string, topLevel: number, queue: string): { waits: number[]; delivered: boolean } {
  const waits: number[] = [];
  for (let level = topLevel; level >= 0; level--) {
    const { wait, skip } = levelPatterns(level);
    const waitsHere = topicMatches(wait, routingKey);
    expect(waitsHere, `level ${level}: exactly one of wait/skip matches`).toBe(!topicMatches(skip, routingKey));
    if (waitsHere) waits.push(level);
  }
  return { waits, delivered: topicMatches(deliverPattern(queue), routingKey) };
}

describe('delay routes', () => {
  it('rounds a delay up to the 10 ms unit and waits in exactly the levels of its binary digits', () => {
    const route = delayRoute(25, 'billing');
    expect(route.appliedMs).toBe(30);
    expect(route.topLevel).toBe(1);
    expect(route.routingKey).toBe(`${'0.'.repeat(DELAY_LEVELS - 2)}1.1.billing`);
    expect(travel(route.routingKey, route.topLevel, 'billing')).toEqual({ waits: [1, 0], delivered: true });
  });

  it('holds any delay at least as long as asked and less than one unit longer, and delivers only to its own queue', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 * 24 * 3600 * 1000 }), fc.constantFrom('a.b', 'b', 'shop.orders', 'x-1_y'), (delayMs, queue) => {
        const route = delayRoute(delayMs, queue);
        expect(route.appliedMs).toBeGreaterThanOrEqual(delayMs);
        expect(route.appliedMs - delayMs).toBeLessThan(DELAY_UNIT_MS);
        const { waits, delivered } = travel(route.routingKey, route.topLevel, queue);
        expect(waits[0]).toBe(route.topLevel);
        expect(waits.reduce((sum, level) => sum + levelTtlMs(level), 0)).toBe(route.appliedMs);
        expect(delivered).toBe(true);
        for (const other of ['a.b', 'b', 'shop.orders', 'x-1_y', 'orders']) {
          if (other !== queue) expect(topicMatches(deliverPattern(other), route.routingKey), `${queue} is not ${other}`).toBe(false);
        }
      }),
    );
  });

  it('refuses a delay beyond the longest level chain, and a delay that is not a positive number', () => {
    expect(delayRoute(MAX_DELAY_MS, 'q').appliedMs).toBe(MAX_DELAY_MS);
    expect(() => delayRoute(MAX_DELAY_MS + 1, 'q')).toThrow(expect.objectContaining({ code: RabbitMqErrorCodes.DELAY_TOO_LONG }));
    for (const bad of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => delayRoute(bad, 'q')).toThrow(expect.objectContaining({ code: ErrorCodes.TRANSPORT_CONFIG }));
    }
  });
});

describe('queue names', () => {
  it('accepts endpoint-like names and refuses what would break routing or RabbitMQ rules', () => {
    assertQueueName('shop.orders-1', 'orders');
    for (const bad of ['', 'a*b', 'a#', 'has space', 'amq.mine', 'x'.repeat(192), 42]) {
      let error: unknown;
      try {
        assertQueueName(bad, 'e');
      } catch (e) {
        error = e;
      }
      expect(isMailroomError(error, ErrorCodes.TRANSPORT_CONFIG), JSON.stringify(bad)).toBe(true);
    }
  });

  it('routes a scheduled event to the queues bound to its type, never to a queue of the same name, and refuses types too long for a key', () => {
    const type = 'shop.OrderPlaced';
    const key = delayRoute(1500, scheduledEventTail(type)).routingKey;
    expect(topicMatches(scheduledEventPattern(type), key)).toBe(true);
    expect(topicMatches(scheduledEventPattern('shop.OrderPaid'), key)).toBe(false);
    // The tail starts with the reserved `amq.` prefix, which no queue name may carry.
    expect(topicMatches(deliverPattern('shop.OrderPlaced'), key)).toBe(false);
    expect(() => assertQueueName(scheduledEventTail(type), 'x')).toThrow();
    expect(canScheduleEvent(type)).toBe(true);
    expect(canScheduleEvent('t'.repeat(200))).toBe(false);
  });
});
