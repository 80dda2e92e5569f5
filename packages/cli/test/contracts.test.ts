import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CliErrorCodes } from '../src/errors.js';
import { ExitCodes } from '../src/exit-codes.js';
import { mailroom } from './run-mailroom.js';

const dir = mkdtempSync(join(tmpdir(), 'mailroom-cli-contracts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fixture = (name: string) => join(import.meta.dirname, 'fixtures', 'contracts', `${name}.config.ts`);

describe('mailroom contracts', () => {
  const lock = join(dir, 'contracts.lock.json');

  it('snapshot writes a deterministic lock with versions, schemas, producers and consumers', async () => {
    const first = await mailroom(['contracts', 'snapshot', '--config', fixture('base'), '--lock', lock]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(ExitCodes.OK);
    expect(first.stdout).toContain('Recorded 4 contracts');
    const text = readFileSync(lock, 'utf8');
    const parsed = JSON.parse(text);
    expect(parsed.lockfileVersion).toBe(1);
    expect(parsed.contracts['fixture.OrderPlaced']).toMatchObject({
      kind: 'event',
      version: 2,
      acceptedVersions: [1, 2],
      producers: ['orders'],
      consumers: ['billing'],
    });
    expect(parsed.contracts['fixture.ShipOrder']).toMatchObject({ kind: 'command', owner: 'shipping' });
    expect(parsed.contracts['fixture.OrderPlaced'].schemas['2'].required).toEqual(['orderId', 'total', 'lines']);
    const again = await mailroom(['contracts', 'snapshot', '--config', fixture('base'), '--lock', lock]);
    expect(again.stdout).toContain('Unchanged 4 contracts');
    expect(readFileSync(lock, 'utf8')).toBe(text);
  });

  it('check passes on compatible changes and lists them', async () => {
    const run = await mailroom(['contracts', 'check', '--config', fixture('compatible'), '--lock', lock]);
    expect(run.code).toBe(ExitCodes.OK);
    expect(run.stdout).toContain('no breaking changes');
    expect(run.stdout).toContain('fixture.OrderCancelled: new event (v1)');
    expect(run.stdout).toContain('fixture.OrderPlaced v2: new field with a default "channel"');
    expect(run.stdout).toContain('fixture.PaymentCaptured v2: new version v2: deploy its consumers (orders) before its producers (billing) publish it');
  });

  it('check fails with exit code 6 and one line per breaking change', async () => {
    const run = await mailroom(['contracts', 'check', '--config', fixture('breaking'), '--lock', lock]);
    expect(run.code).toBe(ExitCodes.BREAKING);
    expect(run.stderr).toContain(CliErrorCodes.CONTRACTS_BREAKING);
    const breaking = run.stdout.slice(run.stdout.indexOf('Breaking:'), run.stdout.indexOf('Compatible:'));
    expect(breaking.trim().split('\n').slice(1)).toEqual([
      '  fixture.OrderPlaced v2: field "lines[].qty" changed type: integer -> string',
      '  fixture.OrderPlaced v2: field "note" was removed',
      '  fixture.OrderPlaced v2: field "total" changed type: object -> number',
      '  fixture.OrderShipped: removed while still consumed by orders (per the lock): first remove it from their consumes and release that, then remove the type',
      '  fixture.PaymentCaptured v1: new field "currency" is required and has no default',
      '  fixture.ShipOrder v1: v1 is no longer accepted and has no upcaster: v1 messages still queued or sent by producers not yet redeployed will be dead-lettered; add upcast: { 1: ... }',
    ]);
    const json = await mailroom(['contracts', 'check', '--config', fixture('breaking'), '--lock', lock, '--json']);
    expect(json.code).toBe(ExitCodes.BREAKING);
    const report = JSON.parse(json.stdout) as { ok: boolean; breaking: { change: string }[] };
    expect(report.ok).toBe(false);
    expect(report.breaking.map((c) => c.change)).toEqual([
      'field-retyped',
      'field-removed',
      'field-retyped',
      'type-removed',
      'field-required',
      'version-removed',
    ]);
  });

  it('finds mailroom.config.ts from the working directory upwards and keeps the lock beside it', async () => {
    const project = mkdtempSync(join(dir, 'project-'));
    writeFileSync(join(project, 'mailroom.config.ts'), `export { default } from ${JSON.stringify(fixture('base'))};\n`);
    const sub = join(project, 'src');
    mkdirSync(sub);
    const run = await mailroom(['contracts', 'snapshot'], { cwd: sub });
    expect(run.code).toBe(ExitCodes.OK);
    expect(JSON.parse(readFileSync(join(project, 'contracts.lock.json'), 'utf8')).contracts['fixture.ShipOrder'].version).toBe(1);
    expect((await mailroom(['contracts', 'check'], { cwd: sub })).code).toBe(ExitCodes.OK);
  });

  it('says what is missing: the lock, the config, or a valid default export', async () => {
    const noLock = await mailroom(['contracts', 'check', '--config', fixture('base'), '--lock', join(dir, 'missing.lock.json')]);
    expect(noLock.code).toBe(ExitCodes.CONFIG);
    expect(noLock.stderr).toContain('run `mailroom contracts snapshot`');
    expect(noLock.stderr).toContain(CliErrorCodes.LOCK_NOT_FOUND);

    const noConfig = await mailroom(['contracts', 'check', '--config', join(dir, 'nope.config.ts')]);
    expect(noConfig.code).toBe(ExitCodes.CONFIG);
    expect(noConfig.stderr).toContain(CliErrorCodes.CONFIG_NOT_FOUND);

    const empty = mkdtempSync(join(dir, 'empty-'));
    const nothing = await mailroom(['graph'], { cwd: empty });
    expect(nothing.code).toBe(ExitCodes.CONFIG);
    expect(nothing.stderr).toContain('No mailroom.config.ts');

    const bad = join(dir, 'bad.config.mjs');
    writeFileSync(bad, 'export default { endpoints: [{ name: "Not Valid" }] };\n');
    const invalid = await mailroom(['graph', '--config', bad]);
    expect(invalid.code).toBe(ExitCodes.CONFIG);
    expect(invalid.stderr).toContain(CliErrorCodes.CONFIG_INVALID);
    expect(invalid.stderr).toContain('Invalid system endpoint name "Not Valid"');

    const garbage = join(dir, 'garbage.lock.json');
    writeFileSync(garbage, '{ "contracts": 1 }');
    const badLock = await mailroom(['contracts', 'check', '--config', fixture('base'), '--lock', garbage]);
    expect(badLock.code).toBe(ExitCodes.CONFIG);
    expect(badLock.stderr).toContain(CliErrorCodes.LOCK_INVALID);
  });
});
