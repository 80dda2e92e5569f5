import { describe, expect, it } from 'vitest';
import { checkNumberOption, NON_NEGATIVE, POSITIVE, WHOLE_FROM_1 } from './number-option.js';

const fail = (message: string) => new Error(message);

describe('checkNumberOption', () => {
  it('returns a value that satisfies the rule', () => {
    expect(checkNumberOption(3, 'n', WHOLE_FROM_1, fail)).toBe(3);
    expect(checkNumberOption(0.5, 'n', POSITIVE, fail)).toBe(0.5);
    expect(checkNumberOption(0, 'n', NON_NEGATIVE, fail)).toBe(0);
  });

  it.each([
    [0, WHOLE_FROM_1, 'n must be a whole number >= 1, got 0'],
    [1.5, WHOLE_FROM_1, 'n must be a whole number >= 1, got 1.5'],
    [0, POSITIVE, 'n must be a number > 0, got 0'],
    [-1, NON_NEGATIVE, 'n must be a number >= 0, got -1'],
    [Number.NaN, NON_NEGATIVE, 'n must be a number >= 0, got NaN'],
    [Number.POSITIVE_INFINITY, POSITIVE, 'n must be a number > 0, got Infinity'],
    ['5', WHOLE_FROM_1, 'n must be a whole number >= 1, got "5"'],
    [undefined, POSITIVE, 'n must be a number > 0, got undefined'],
  ])('refuses %s with the error fail makes, naming option, rule and value', (value, rule, message) => {
    expect(() => checkNumberOption(value, 'n', rule, fail)).toThrow(message);
  });
});
