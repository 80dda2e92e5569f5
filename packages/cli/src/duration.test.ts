import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseSince, parseWholeNumber } from './duration.js';

describe('parseSince', () => {
  const now = new Date('2025-06-01T12:00:00Z');
  it('reads durations back from now and ISO times', () => {
    expect(parseSince('90s', now).toISOString()).toBe('2025-06-01T11:58:30.000Z');
    expect(parseSince('15m', now).toISOString()).toBe('2025-06-01T11:45:00.000Z');
    expect(parseSince('2h', now).toISOString()).toBe('2025-06-01T10:00:00.000Z');
    expect(parseSince('7d', now).toISOString()).toBe('2025-05-25T12:00:00.000Z');
    expect(parseSince('1w', now).toISOString()).toBe('2025-05-25T12:00:00.000Z');
    expect(parseSince('2025-05-31T08:00:00Z', now).toISOString()).toBe('2025-05-31T08:00:00.000Z');
  });

  it('rejects anything else as a usage error', () => {
    for (const bad of ['yesterday', '15', '-5m', '2025-13-45', '']) expect(() => parseSince(bad, now)).toThrow(InvalidArgumentError);
    expect(() => parseWholeNumber(1)('0')).toThrow(InvalidArgumentError);
    expect(() => parseWholeNumber(1)('1.5')).toThrow(InvalidArgumentError);
    expect(parseWholeNumber(1)('250')).toBe(250);
  });
});
