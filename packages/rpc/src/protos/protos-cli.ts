// `npm run protos -- <generate|lock|check> [dir...]`: the proto module tools from the command line.
// Without a directory, every proto module of the workspace (a directory with buf.gen.yaml under
// packages/ or examples/, and bench/).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { checkProtos } from './check-protos.js';
import { generateProtos, lockProtos } from './generate-protos.js';

function workspaceModules(): string[] {
  const candidates = ['packages', 'examples'].flatMap((parent) => (existsSync(parent) ? readdirSync(parent).map((name) => join(parent, name)) : []));
  return [...candidates, 'bench'].filter((dir) => existsSync(join(dir, 'buf.gen.yaml')));
}

async function main(): Promise<number> {
  const [command, ...dirs] = process.argv.slice(2);
  const modules = dirs.length > 0 ? dirs : workspaceModules();
  if (command === 'generate') {
    for (const dir of modules) {
      await generateProtos(dir);
      console.log(`generated ${dir}`);
    }
    return 0;
  }
  if (command === 'lock') {
    for (const dir of modules) console.log(`wrote ${await lockProtos(dir)}`);
    return 0;
  }
  if (command === 'check') {
    let ok = true;
    for (const dir of modules) {
      const result = await checkProtos(dir);
      ok &&= result.ok;
      console.log(result.ok ? `${dir}: ok` : `${dir}:`);
      for (const [what, lines] of [
        ['lint', result.lint],
        ['breaking', result.breaking],
        ['stale', result.stale],
      ] as const) {
        for (const line of lines) console.log(`  ${what}: ${line}`);
      }
    }
    return ok ? 0 : 1;
  }
  console.error('usage: protos <generate|lock|check> [dir...]');
  return 2;
}

process.exitCode = await main();
