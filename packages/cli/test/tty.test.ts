// The terminal-only behaviour (progress bar, confirmation prompt) run under a real pseudo-terminal made by `script` (util-linux).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep, uniqueName } from '@mailroom/conformance';
import { connectTransport, createEndpoint, createEnvelope, defineEvent, encodeJson, envelopeToHeaders } from '@mailroom/core';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ExitCodes } from '../src/exit-codes.js';
import { cliRoot } from './run-mailroom.js';

const dir = mkdtempSync(join(tmpdir(), 'mailroom-cli-tty-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const script = '/usr/bin/script';
if (!existsSync(script)) console.warn('[mailroom] skipping the terminal tests of the CLI: /usr/bin/script (util-linux) is not installed');

/** Runs mailroom on a pseudo-terminal (stdin, stdout and stderr all a TTY), typing `input`. */
function onTerminal(args: string[], input: string): Promise<{ code: number | null; output: string }> {
  const loader = join(cliRoot, '..', '..', 'node_modules', 'tsx', 'dist', 'loader.mjs');
  const command = [process.execPath, '--conditions=source', '--import', `file://${loader}`, join(cliRoot, 'src', 'bin.ts'), ...args]
    .map((a) => `'${a}'`)
    .join(' ');
  const child = spawn(script, ['-qec', command, '/dev/null'], {
    env: { ...process.env, MAILROOM_LOG_LEVEL: 'silent', COLUMNS: '120' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  // Type the answer once the prompt is there (or right away when none is expected), then close stdin.
  const typing = (async () => {
    for (let i = 0; i < 200 && input !== '' && !output.includes('[y/N]'); i++) await sleep(50);
    child.stdin.end(input);
  })();
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => void typing.then(() => resolve({ code, output })));
  });
}

describe.runIf(existsSync(script))('mailroom on a terminal', () => {
  it('draws a progress bar while replaying many, and asks before purging', async () => {
    const file = join(dir, 'broker.db');
    const type = uniqueName('tty.Event');
    const Event = defineEvent(type, { version: 1, schema: z.object({ n: z.number() }) });
    const transport = await connectTransport(file);
    const endpointName = uniqueName('tty-endpoint');
    const endpoint = createEndpoint({ name: endpointName, transport });
    endpoint.on(Event, () => undefined);
    await endpoint.start();
    try {
      for (let i = 0; i < 3; i++) {
        const headers = envelopeToHeaders(createEnvelope({ type, dataversion: 1, source: 'urn:test' }));
        await transport.publish({ route: { kind: 'event', type }, headers, body: encodeJson({ n: `not a number ${i}` }) });
      }
      const count = async () => (await transport.deadLetters.list({ endpoint: endpointName })).length;
      for (let i = 0; i < 300 && (await count()) < 3; i++) await sleep(50);
      expect(await count()).toBe(3);
      await endpoint.stop();

      const replay = await onTerminal(['dlq', 'replay', '--all', '--endpoint', endpointName, '--transport', file], '');
      expect(replay.code).toBe(ExitCodes.OK);
      expect(replay.output).toContain('replaying [');
      expect(replay.output).toContain('3/3 100%');
      expect(replay.output).toContain('Replayed 3 dead letters');
      // Replayed messages wait in the queue (the endpoint is stopped); start it to dead-letter them again.
      await endpoint.start();
      for (let i = 0; i < 300 && (await count()) < 3; i++) await sleep(50);
      expect(await count()).toBe(3);

      const declined = await onTerminal(['dlq', 'purge', '--endpoint', endpointName, '--transport', file], 'n\n');
      expect(declined.output).toContain(`Delete 3 dead letters (endpoint ${endpointName}) for good? This cannot be undone. [y/N]`);
      expect(declined.output).toContain('Not confirmed; nothing was deleted.');
      expect(declined.code).toBe(ExitCodes.NOT_CONFIRMED);
      expect(await count()).toBe(3);

      const confirmed = await onTerminal(['dlq', 'purge', '--endpoint', endpointName, '--transport', file], 'y\n');
      expect(confirmed.output).toContain('Purged 3 dead letters');
      expect(confirmed.code).toBe(ExitCodes.OK);
      expect(await count()).toBe(0);
    } finally {
      await endpoint.stop();
      await transport.close();
    }
  });
});
