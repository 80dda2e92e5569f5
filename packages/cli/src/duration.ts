import { InvalidArgumentError } from 'commander';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * Reads a `--since` value: a duration back from `now` (`90s`, `15m`, `2h`, `7d`, `1w`) or an
 * ISO 8601 time (`2025-06-01`, `2025-06-01T10:00:00Z`). Throws commander's `InvalidArgumentError`
 * (a usage error) for anything else, so the CLI never silently ignores a filter.
 */
export function parseSince(value: string, now: Date = new Date()): Date {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(value.trim());
  if (match) return new Date(now.getTime() - Number(match[1]) * (UNITS[match[2] as string] as number));
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const time = Date.parse(value);
    if (Number.isFinite(time)) return new Date(time);
  }
  throw new InvalidArgumentError('expected a duration such as 30s, 15m, 2h, 7d, 1w or an ISO time such as 2025-06-01T10:00:00Z');
}

/** Reads a whole number >= `min` for an option; throws commander's `InvalidArgumentError` otherwise. */
export function parseWholeNumber(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected a whole number >= ${min}`);
    return n;
  };
}
