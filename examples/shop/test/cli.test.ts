// The `mailroom` CLI on the shop's config: the contracts check that fails CI on a breaking change,
// and the choreography graph, from the shop's own `defineSystem` declaration.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../../packages/cli/src/bin.ts', import.meta.url));
const CONFIG = fileURLToPath(new URL('../mailroom.config.ts', import.meta.url));

function mailroom(...args: string[]) {
  return promisify(execFile)(process.execPath, ['--conditions=source', '--import', 'tsx', BIN, ...args, '--config', CONFIG], { timeout: 60_000 });
}

describe('mailroom CLI on the shop', () => {
  it('finds no breaking change against the committed contracts.lock.json', async () => {
    const { stdout } = await mailroom('contracts', 'check');
    expect(stdout).toMatch(/Checked 13 contracts against .*contracts\.lock\.json: no breaking changes\./);
  });

  it('draws the choreography: the gateway publishes OrderPlaced v2, which four services and the tracker consume', async () => {
    const { stdout } = await mailroom('graph');
    expect(stdout).toMatch(/^flowchart LR/);
    const placed = /(m\d+)\{\{"shop\.OrderPlaced v2"\}\}/.exec(stdout)?.[1] as string;
    const endpoint = (name: string) => new RegExp(`(e\\d+)\\["${name}"\\]`).exec(stdout)?.[1] as string;
    expect(stdout).toContain(`${endpoint('gateway')} -->|publishes| ${placed}`);
    for (const consumer of ['gateway-operations', 'orders', 'payments', 'inventory', 'notifications'])
      expect(stdout).toContain(`${placed} --> ${endpoint(consumer)}`);
  });
});
