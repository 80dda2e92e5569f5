#!/usr/bin/env node
// A step of `npm run lint` (so of `npm test`): fails when any module graph of
// the repository has an import cycle: the sources of every package, example and the bench, and the
// two browser UIs. Every import counts, `import type` included, so a cycle cannot creep in as a
// type and turn into a runtime one later. Imports of other packages (`@mailroom/core`...) are not
// followed: a package's cycles are found inside its own src. madge does the resolving (`./x.js`
// to `x.ts` through the tsconfig); the script also fails when a graph came out with no edges at
// all, which would mean the resolving broke and the check passed without looking.
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import madge from 'madge';

const root = fileURLToPath(new URL('..', import.meta.url));
// The src folder of each package under the given parents (what `packages/*/src` would list).
const sources = (...parents) =>
  parents.flatMap((parent) => readdirSync(`${root}/${parent}`).map((name) => `${parent}/${name}/src`)).filter((folder) => existsSync(`${root}/${folder}`));

/** Each graph: the folders whose modules import one another, and the tsconfig that says how they resolve. */
const graphs = [
  { tsConfig: 'tsconfig.json', folders: [...sources('packages', 'examples'), 'bench/src'] },
  { tsConfig: 'packages/console/ui/tsconfig.json', folders: ['packages/console/ui/src'] },
  { tsConfig: 'examples/shop/ui/tsconfig.json', folders: ['examples/shop/ui/src'] },
];

let failed = false;
for (const { tsConfig, folders } of graphs) {
  const graph = await madge(folders, { baseDir: root, fileExtensions: ['ts', 'tsx'], tsConfig: `${root}/${tsConfig}` });
  const modules = graph.obj();
  const edges = Object.values(modules).reduce((sum, imports) => sum + imports.length, 0);
  const cycles = graph.circular();
  if (edges === 0) {
    failed = true;
    console.error(`check-cycles: no import resolved in ${folders.join(', ')} (${Object.keys(modules).length} modules): is ${tsConfig} right?`);
  }
  for (const cycle of cycles) console.error(`check-cycles: import cycle: ${[...cycle, cycle[0]].join(' -> ')}`);
  if (cycles.length > 0) failed = true;
  console.log(`check-cycles: ${Object.keys(modules).length} modules, ${edges} imports, ${cycles.length} cycles (${folders.length} folders, ${tsConfig})`);
}
process.exit(failed ? 1 : 0);
