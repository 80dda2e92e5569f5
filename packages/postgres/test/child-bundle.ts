import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..', '..', '..');

/**
 * Bundles a TypeScript child-process script with the workspace sources it imports (`@mailroom/*`
 * through the `source` condition), leaving npm packages external, so each child starts in about
 * 0.2 s instead of about 0.6 s under tsx. Returns the bundle's path and a clean-up function.
 */
export async function bundleChild(entry: string): Promise<{ path: string; remove: () => void }> {
  mkdirSync(join(root, 'node_modules', '.cache'), { recursive: true });
  const dir = mkdtempSync(join(root, 'node_modules', '.cache', 'mailroom-child-'));
  const path = join(dir, 'child.mjs');
  await build({
    entryPoints: [entry],
    outfile: path,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['source'],
    logLevel: 'warning',
    plugins: [
      {
        name: 'npm-packages-external',
        setup(plugin) {
          plugin.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@mailroom/') ? undefined : { path: args.path, external: true }));
        },
      },
    ],
  });
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
