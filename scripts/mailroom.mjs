#!/usr/bin/env node
// `npm run mailroom -- <args>`: this repository's `mailroom` CLI (packages/cli), run from its
// TypeScript sources through tsx, so it works in a fresh clone right after `npm install`, with no
// build, and is never older than the sources. It runs in the directory npm was started from
// (INIT_CWD), so the nearest mailroom.config.* is found as with an installed `mailroom`.
// `npm run -s mailroom -- ...` leaves out npm's own header lines (for output you pipe).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../packages/cli/src/bin.ts', import.meta.url));
const tsx = import.meta.resolve('tsx');
const child = spawn(process.execPath, ['--conditions=source', '--import', tsx, bin, ...process.argv.slice(2)], {
  cwd: process.env.INIT_CWD || process.cwd(),
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.once('exit', (code, signal) => {
  if (signal) process.kill(process.pid, signal);
  else process.exit(code ?? 1);
});
