/** What a numeric option must be: at least (or, `exclusive`, above) `min`, and a whole number when `integer`. */
export interface NumberRule {
  readonly min: number;
  /** `value > min` instead of `value >= min`. */
  readonly exclusive?: boolean;
  /** Only safe integers. */
  readonly integer?: boolean;
}

/** `>= 1` whole numbers: counts, sizes, concurrency. */
export const WHOLE_FROM_1: NumberRule = { min: 1, integer: true };
/** `> 0` finite numbers: durations, intervals. */
export const POSITIVE: NumberRule = { min: 0, exclusive: true };
/** `>= 0` finite numbers: delays that may be zero. */
export const NON_NEGATIVE: NumberRule = { min: 0 };

/**
 * Returns `value` when it is a number satisfying `rule`; otherwise throws the error `fail` makes
 * from a message naming the option, the rule and the value given (`<name> must be a whole number
 * >= 1, got 0`). The one checker behind every numeric option of the packages, so they all fail
 * fast the same way.
 */
export function checkNumberOption(value: unknown, name: string, rule: NumberRule, fail: (message: string) => Error): number {
  const isNumber = typeof value === 'number' && (rule.integer ? Number.isSafeInteger(value) : Number.isFinite(value));
  if (isNumber && (rule.exclusive ? value > rule.min : value >= rule.min)) return value;
  const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
  throw fail(`${name} must be ${rule.integer ? 'a whole number' : 'a number'} ${rule.exclusive ? '>' : '>='} ${rule.min}, got ${shown}`);
}
