import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script without types
import { collectCodes, render } from '../../../scripts/errors-doc.mjs';

const root = join(import.meta.dirname, '..', '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' || name === 'dist' ? [] : sources(path);
    return /\.ts$/.test(name) && !name.endsWith('.test.ts') ? [path] : [];
  });
}

describe('error code table', () => {
  it('docs/errors.md is generated from the current errors.ts files', () => {
    expect(readFileSync(join(root, 'docs', 'errors.md'), 'utf8')).toBe(render(collectCodes()));
  });

  it('every MAILROOM_ERR_* code used in package sources is defined in an errors.ts', () => {
    const defined = new Set(collectCodes().map((c: { code: string }) => c.code));
    const used = new Set<string>();
    for (const file of sources(join(root, 'packages'))) {
      for (const match of readFileSync(file, 'utf8').matchAll(/'(MAILROOM_ERR_[A-Z0-9_]+)'/g)) used.add(match[1] as string);
    }
    const undefinedCodes = [...used].filter((code) => !defined.has(code));
    expect(undefinedCodes).toEqual([]);
  });
});
