import type { Logger } from '@mailroom/core';

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, silent: Number.POSITIVE_INFINITY } as const;
type Level = Exclude<keyof typeof LEVELS, 'silent'>;

/** Bindings worth repeating on every line of a child logger; the others (ids, endpoint) stay out of the way. */
const SHOWN_BINDINGS = new Set(['type', 'attempt', 'component', 'httpTarget']);

function format(value: unknown): string {
  if (typeof value === 'string') return /\s/.test(value) ? JSON.stringify(value) : value;
  if (value instanceof Date) return value.toISOString();
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function describe(fields: Record<string, unknown>, stack: boolean): string {
  const parts: string[] = [];
  let error = '';
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (key === 'err' || key === 'error') {
      const err = value as { message?: unknown; stack?: unknown };
      error = ` - ${stack && typeof err?.stack === 'string' ? err.stack : String(err?.message ?? value)}`;
      continue;
    }
    if (key === 'type' && typeof value === 'string') parts.push(value.replace(/^shop\./, ''));
    else if (key === 'attempt' && value === 1) continue;
    else parts.push(`${key}=${format(value)}`);
  }
  return (parts.length > 0 ? ` (${parts.join(' ')})` : '') + error;
}

/**
 * A {@link Logger} writing one readable line per entry to stdout (`INFO message (key=value) - error`),
 * for processes whose output the supervisor prefixes and shows in a terminal. The level comes from
 * `MAILROOM_LOG_LEVEL` (default `info`; `silent` turns it off); stacks are printed at `debug`.
 */
export function createLineLogger(level: string = process.env.MAILROOM_LOG_LEVEL ?? 'info', bindings: Record<string, unknown> = {}): Logger {
  const threshold = LEVELS[level as keyof typeof LEVELS] ?? LEVELS.info;
  const write = (name: Level) => (obj: object, msg?: string) => {
    if (LEVELS[name] < threshold) return;
    // A warning or an error also names its trace, to find every span of what went wrong.
    const shown = Object.fromEntries(
      Object.entries(bindings).filter(([key]) => SHOWN_BINDINGS.has(key) || (key === 'trace_id' && LEVELS[name] >= LEVELS.warn)),
    );
    const line = `${name.toUpperCase().padEnd(5)} ${msg ?? ''}${describe({ ...shown, ...(obj as Record<string, unknown>) }, threshold <= LEVELS.debug)}`;
    process.stdout.write(`${line}\n`);
  };
  return {
    trace: write('trace'),
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (more) => createLineLogger(level, { ...bindings, ...more }),
  };
}
