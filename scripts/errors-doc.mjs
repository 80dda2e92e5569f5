#!/usr/bin/env node
// Builds docs/errors.md from the `errors.ts` of every package: one table of every MAILROOM_ERR_* code.
// `node scripts/errors-doc.mjs` writes it; `--check` exits 1 when the file is out of date.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'docs', 'errors.md');

/** Every code defined in packages/<name>/src/errors.ts as `/** doc *\/ KEY: 'MAILROOM_ERR_...'`. */
export function collectCodes() {
  const codes = [];
  for (const pkg of readdirSync(join(root, 'packages')).sort()) {
    const file = join(root, 'packages', pkg, 'src', 'errors.ts');
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    const pattern = /\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*\n\s*[A-Z_]+:\s*'(MAILROOM_ERR_[A-Z0-9_]+)'/g;
    for (const match of text.matchAll(pattern)) {
      const doc = match[1]
        .split('\n')
        .map((line) => line.replace(/^\s*\*\s?/, '').trim())
        .join(' ')
        .replace(/\s+/g, ' ')
        .replace(/\{@link\s+([^}\s]+)\s*\}/g, '`$1`')
        .trim();
      codes.push({ code: match[2], pkg: `@mailroom/${pkg}`, doc });
    }
  }
  return codes;
}

export function render(codes) {
  const rows = codes.map(({ code, pkg, doc }) => `| \`${code}\` | ${pkg} | ${doc.replace(/\|/g, '\\|')} |`);
  return [
    '# Error codes',
    '',
    'Every error Mailroom throws, and every reason it records on a dead letter, carries one of these',
    'stable codes. Errors are `MailroomError` instances with `code`, `message`, optional `details` and',
    '`cause`; test for them with `isMailroomError(error, code)`, which works across duplicate package',
    'copies. Codes marked unrecoverable in the source are dead-lettered at once, never retried.',
    '',
    "This file is generated from each package's `src/errors.ts` by `node scripts/errors-doc.mjs`; a test",
    'fails when it is out of date.',
    '',
    '| code | package | meaning |',
    '|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = render(collectCodes());
  if (process.argv.includes('--check')) {
    const current = existsSync(target) ? readFileSync(target, 'utf8') : '';
    if (current !== text) {
      console.error('docs/errors.md is out of date: run node scripts/errors-doc.mjs');
      process.exit(1);
    }
  } else {
    writeFileSync(target, text);
    console.log(`wrote ${target}`);
  }
}
