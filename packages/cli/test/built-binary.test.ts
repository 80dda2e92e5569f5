// The published entry point, dist/bin.js, as `npm test` builds it before running the tests.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uniqueName } from '@mailroom/conformance';
import { connectTransport, createEndpoint, defineEvent } from '@mailroom/core';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ExitCodes } from '../src/exit-codes.js';
import { cliRoot, mailroom } from './run-mailroom.js';

const dir = mkdtempSync(join(tmpdir(), 'mailroom-cli-built-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const bin = join(cliRoot, 'dist', 'bin.js');
const built = existsSync(bin);
if (!built) console.warn('[mailroom] skipping the built-binary test of the CLI: run `npm run build` first (npm test does)');

describe.runIf(built)('the built mailroom binary', () => {
  it('is the package bin, reports the package version and reads a SQLite broker', async () => {
    const pkg = JSON.parse(readFileSync(join(cliRoot, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
    expect(join(cliRoot, pkg.bin.mailroom as string)).toBe(bin);
    expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    const version = await mailroom(['--version'], { built: true });
    expect(version.stdout.trim()).toBe(pkg.version);

    const file = join(dir, 'broker.db');
    const transport = await connectTransport(file);
    const endpoint = createEndpoint({ name: uniqueName('built'), transport });
    endpoint.on(defineEvent(uniqueName('built.Event'), { version: 1, schema: z.object({}) }), () => undefined);
    await endpoint.start();
    await endpoint.stop();
    await transport.close();
    const topology = await mailroom(['topology', '--json', '--transport', file], { built: true });
    expect(topology.code).toBe(ExitCodes.OK);
    expect((JSON.parse(topology.stdout) as { queues: { endpoint: string }[] }).queues.map((q) => q.endpoint)).toEqual([endpoint.name]);
  });
});
