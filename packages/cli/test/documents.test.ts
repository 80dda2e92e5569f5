import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiagnosticSeverity, Parser } from '@asyncapi/parser';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ExitCodes } from '../src/exit-codes.js';
import { mailroom } from './run-mailroom.js';

const dir = mkdtempSync(join(tmpdir(), 'mailroom-cli-docs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const config = join(import.meta.dirname, 'fixtures', 'contracts', 'base.config.ts');

describe('mailroom asyncapi and graph', () => {
  it('asyncapi writes an AsyncAPI 3.0 document that @asyncapi/parser accepts', async () => {
    const run = await mailroom(['asyncapi', '--config', config]);
    expect(run.code).toBe(ExitCodes.OK);
    const document = parse(run.stdout) as {
      asyncapi: string;
      info: { title: string };
      channels: Record<string, unknown>;
      operations: Record<string, { action: string }>;
    };
    expect(document.asyncapi).toBe('3.0.0');
    expect(document.info.title).toBe('Fixture shop');
    expect(Object.keys(document.channels)).toEqual(['fixture.OrderPlaced', 'fixture.OrderShipped', 'fixture.PaymentCaptured', 'fixture.ShipOrder']);
    expect(document.operations['billing.consumes.fixture.OrderPlaced']?.action).toBe('receive');
    expect(document.operations['orders.sends.fixture.ShipOrder']?.action).toBe('send');
    const { document: parsed, diagnostics } = await new Parser().parse(run.stdout);
    expect(diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error)).toEqual([]);
    expect(parsed?.operations().all().length).toBe(8);

    const file = join(dir, 'asyncapi.json');
    const toFile = await mailroom(['asyncapi', '--config', config, '--output', file]);
    expect(toFile.code).toBe(ExitCodes.OK);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(document);
  });

  it('graph draws who publishes and who consumes each type as Mermaid, or lists it as JSON', async () => {
    const run = await mailroom(['graph', '--config', config]);
    expect(run.code).toBe(ExitCodes.OK);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('flowchart LR');
    expect(lines).toContain('  e0["orders"]:::endpoint');
    expect(lines).toContain('  m0{{"fixture.OrderPlaced v2"}}:::event');
    expect(lines).toContain('  e0 -->|publishes| m0');
    expect(lines).toContain('  m0 --> e1');
    expect(lines).toContain('  m3[/"fixture.ShipOrder v1"/]:::command');
    expect(lines).toContain('  e0 -->|sends| m3');
    expect(lines).toContain('  m3 --> e2');
    const json = await mailroom(['graph', '--config', config, '--json']);
    expect(JSON.parse(json.stdout)).toContainEqual({
      type: 'fixture.ShipOrder',
      kind: 'command',
      version: 1,
      owner: 'shipping',
      producers: ['orders'],
      consumers: ['shipping'],
    });
  });
});
