import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects, type OperationsRig, OrderShipped, PaymentCaptured, StockReserved, startRig } from './support/operations-rig.js';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available) console.warn(`[mailroom] skipping the browser test of watchOperation: no Chromium at ${CHROMIUM}`);

// The browser client as a browser gets it: the TypeScript source compiled to a standalone ES module, no bundler.
const source = readFileSync(fileURLToPath(new URL('../src/browser/watch-operation.ts', import.meta.url)), 'utf8');
const script = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } }).outputText;

const page = `<!doctype html><meta charset="utf-8"><title>watchOperation</title>
<script type="module">
  import { watchOperation } from '/watch-operation.js';
  window.updates = [];
  window.follow = (url, mode) => {
    const watch = watchOperation(url, (op) => window.updates.push({ status: op.status, seqs: op.entries.map((e) => e.seq), steps: op.steps.map((s) => s.done) }), { mode, pollIntervalMs: 100 });
    window.mode = watch.mode;
    return watch.done.then((op) => op && op.status);
  };
  window.ready = true;
</script>`;

describe.runIf(available)('watchOperation in Chromium', () => {
  let browser: Browser;
  let rig: OperationsRig;

  beforeAll(async () => {
    rig = await startRig(dialects[0] as (typeof dialects)[0], {
      routes: (app) => {
        app.get('/', (_request, reply) => reply.type('text/html').send(page));
        app.get('/watch-operation.js', (_request, reply) => reply.type('text/javascript').send(script));
      },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });
  afterAll(async () => {
    await browser?.close();
    await rig?.dispose();
  });

  async function follow(mode: 'auto' | 'poll', withEventSource: boolean) {
    const tab = await browser.newPage();
    if (!withEventSource) await tab.addInitScript(() => Reflect.deleteProperty(window, 'EventSource'));
    await tab.goto(`${rig.gateway.base}/`);
    await tab.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    const response = await fetch(`${rig.gateway.base}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ orderId: 'W', amount: 1 }),
    });
    const { operationId, href } = (await response.json()) as { operationId: string; href: string };
    const done = tab.evaluate(([url, m]) => (window as any).follow(url, m), [href, mode] as const);
    await tab.waitForFunction(() => (window as any).updates.length >= 1);
    await rig.driver.publish(PaymentCaptured, { orderId: 'W' }, { correlationId: operationId });
    await rig.driver.publish(StockReserved, { orderId: 'W' }, { correlationId: operationId });
    await rig.driver.publish(OrderShipped, { orderId: 'W', trackingNumber: 'T-W' }, { correlationId: operationId });
    const final = await done;
    const updates = (await tab.evaluate(() => (window as any).updates)) as { status: string; seqs: number[]; steps: boolean[] }[];
    const usedMode = await tab.evaluate(() => (window as any).mode);
    await tab.close();
    return { final, updates, usedMode };
  }

  it('follows an operation over EventSource to completed, every step in order', async () => {
    const { final, updates, usedMode } = await follow('auto', true);
    expect(usedMode).toBe('sse');
    expect(final).toBe('completed');
    expect(updates.map((update) => update.seqs.at(-1))).toEqual([1, 2, 3, 4]);
    expect(updates.at(-1)).toEqual({ status: 'completed', seqs: [1, 2, 3, 4], steps: [true, true] });
  });

  it('falls back to polling when EventSource is unavailable', async () => {
    const { final, updates, usedMode } = await follow('auto', false);
    expect(usedMode).toBe('poll');
    expect(final).toBe('completed');
    expect(updates.at(-1)).toEqual({ status: 'completed', seqs: [1, 2, 3, 4], steps: [true, true] });
    // Polling may merge steps that land between two polls, but never goes back nor repeats a state.
    const lastSeqs = updates.map((update) => update.seqs.at(-1) as number);
    expect([...lastSeqs].sort((a, b) => a - b)).toEqual(lastSeqs);
    expect(new Set(lastSeqs).size).toBe(lastSeqs.length);
  });
});
