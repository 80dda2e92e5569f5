// `npm run mailroom -- ...` in a fresh clone: no dist/ anywhere (nothing built), node_modules as
// `npm install` lays it out (third-party packages, and @mailroom/* linked to the clone's own
// workspaces). The documented command must run this repository's CLI, from the root and from the shop.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliRoot } from './run-mailroom.js';

const root = join(cliRoot, '..', '..');
const run = promisify(execFile);
const gitOk = await run('git', ['-C', root, 'rev-parse', 'HEAD']).then(
  () => true,
  () => false,
);
if (!gitOk) console.warn('[mailroom] skipping the fresh-clone test of `npm run mailroom`: no git, or not a git checkout');

const dir = mkdtempSync(join(tmpdir(), 'mailroom-clone-'));
const clone = join(dir, 'repo');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** node_modules as `npm install` makes it in the clone: the installed packages, and @mailroom/* pointing at the clone's workspaces. */
function linkNodeModules(): void {
  const modules = join(clone, 'node_modules');
  mkdirSync(join(modules, '@mailroom'), { recursive: true });
  for (const entry of readdirSync(join(root, 'node_modules'))) {
    if (entry === '@mailroom' || entry === '.bin' || entry.startsWith('.')) continue;
    symlinkSync(join(root, 'node_modules', entry), join(modules, entry));
  }
  for (const parent of ['packages', 'examples']) {
    for (const workspace of readdirSync(join(clone, parent))) {
      const manifest = join(clone, parent, workspace, 'package.json');
      if (!existsSync(manifest)) continue;
      const name = (JSON.parse(readFileSync(manifest, 'utf8')) as { name: string }).name;
      if (name.startsWith('@mailroom/')) symlinkSync(join(clone, parent, workspace), join(modules, name));
    }
  }
}

function npmRun(cwd: string, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('npm', ['run', '-s', 'mailroom', '--', ...args], {
    cwd,
    env: { ...process.env, MAILROOM_TRANSPORT: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe.runIf(gitOk)('npm run mailroom in a fresh clone', () => {
  beforeAll(async () => {
    const { stdout } = await run('git', ['-C', root, 'rev-parse', 'HEAD']);
    await run('git', ['clone', '--quiet', '--no-checkout', root, clone]);
    await run('git', ['-C', clone, 'checkout', '--quiet', stdout.trim()]);
    linkNodeModules();
  }, 120_000);

  it('runs this repository’s CLI with no build: --help from the root, the shop’s graph from examples/shop', async () => {
    expect(existsSync(join(clone, 'packages', 'cli', 'dist'))).toBe(false);
    expect(existsSync(join(clone, 'packages', 'core', 'dist'))).toBe(false);
    const help = await npmRun(clone, ['--help']);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: mailroom \[options\] \[command\]/);
    expect(help.stdout).toContain('4  transport: bad URL, credentials refused');

    // From the shop's directory its mailroom.config.ts is found, as with an installed mailroom.
    const graph = await npmRun(join(clone, 'examples', 'shop'), ['graph']);
    expect(graph.code, graph.stderr).toBe(0);
    expect(graph.stdout).toMatch(/^flowchart LR/);
    expect(graph.stdout).toContain('"shop.OrderPlaced v2"');
    // Still nothing built: the sources ran.
    expect(existsSync(join(clone, 'packages', 'cli', 'dist'))).toBe(false);
  }, 120_000);
});
