import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { memoryIo } from '../test/memory-io.js';
import { ExitCodes } from './exit-codes.js';
import { createProgram } from './program.js';
import { runCli } from './run-cli.js';

function commandPaths(command: Command, prefix: string[] = []): string[][] {
  return command.commands.flatMap((sub) => [[...prefix, sub.name()], ...commandPaths(sub, [...prefix, sub.name()])]);
}

describe('runCli', () => {
  const paths = commandPaths(createProgram({ io: memoryIo(), secrets: [] }));

  it('has every command', () => {
    expect(paths.map((p) => p.join(' '))).toEqual([
      'dlq',
      'dlq list',
      'dlq show',
      'dlq replay',
      'dlq purge',
      'contracts',
      'contracts snapshot',
      'contracts check',
      'asyncapi',
      'graph',
      'topology',
      'console',
    ]);
  });

  it.each(paths.map((p) => [p.join(' ')]))('mailroom %s --help prints usage and exits 0', async (path) => {
    const io = memoryIo();
    expect(await runCli([...path.split(' '), '--help'], io)).toBe(ExitCodes.OK);
    expect(io.out).toContain(`Usage: mailroom ${path}`);
  });

  it('lists the exit codes in the top-level help, and prints the version', async () => {
    const io = memoryIo();
    expect(await runCli(['--help'], io)).toBe(ExitCodes.OK);
    expect(io.out).toContain('Exit codes:');
    const version = memoryIo();
    expect(await runCli(['--version'], version)).toBe(ExitCodes.OK);
    expect(version.out).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('exits 2 on usage errors: no or unknown command, unknown option, bad values, conflicting arguments', async () => {
    for (const args of [
      [],
      ['dlq'],
      ['contracts'],
      ['nope'],
      ['dlq', 'list', '--bogus'],
      ['dlq', 'list', '--since', 'yesterday'],
      ['dlq', 'list', '--timeout', '0'],
      ['dlq', 'replay'],
      ['dlq', 'replay', '1', '--all'],
      ['dlq', 'replay', '1', '--type', 'x'],
    ]) {
      const io = memoryIo();
      expect(await runCli(args, io), args.join(' ')).toBe(ExitCodes.USAGE);
      expect(io.err, args.join(' ')).not.toBe('');
    }
  });

  it('exits 2 when no transport is given anywhere, saying how to give one', async () => {
    const io = memoryIo();
    expect(await runCli(['topology', '--config', 'nope.config.ts'], { ...io, cwd: '/' })).toBe(ExitCodes.CONFIG);
    const bare = memoryIo();
    expect(await runCli(['topology'], { ...bare, cwd: '/' })).toBe(ExitCodes.USAGE);
    expect(bare.err).toContain('No transport given: pass --transport URL or set MAILROOM_TRANSPORT');
  });
});
