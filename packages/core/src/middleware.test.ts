import { describe, expect, it } from 'vitest';
import { compose } from './middleware.js';

describe('compose', () => {
  it('runs middleware in order around the last step, and rejects a second next() in one middleware', async () => {
    const calls: string[] = [];
    const run = compose<string[]>(
      [
        async (log, next) => {
          log.push('a>');
          await next();
          log.push('<a');
        },
        async (log, next) => {
          log.push('b');
          await next();
        },
      ],
      async (log) => void log.push('last'),
    );
    await run(calls);
    expect(calls).toEqual(['a>', 'b', 'last', '<a']);

    let last = 0;
    const twice = compose<undefined>(
      [
        async (_ctx, next) => {
          await next();
          await next();
        },
      ],
      async () => void last++,
    );
    await expect(twice(undefined)).rejects.toThrow('next() was called more than once');
    expect(last).toBe(1);
  });
});
