// The console in Chromium, on SQLite, RabbitMQ and NATS: 50 messages poisoned in 3 ways show as 3
// failure groups; edit and retry fixes one message; retrying a whole group succeeds; a stopped
// endpoint's heartbeats show it stale.
// MAILROOM_CONSOLE_SCREENSHOTS=<dir> also writes the screenshots of docs/console.md there.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uniqueName, waitUntil } from '@mailroom/conformance';
import { createEndpoint, type Transport } from '@mailroom/core';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningConsole, startConsole } from '../src/start-console.js';
import { type PoisonedSystem, startPoisonedSystem, transportCases } from './poisoned-system.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  if (process.env.CI) throw new Error(`The console's browser test needs Chromium at ${CHROMIUM} under CI: apt-get install chromium`);
  console.warn(`[mailroom] skipping the console's browser tests: no Chromium at ${CHROMIUM} (apt-get install chromium)`);
}
const screenshots = process.env.MAILROOM_CONSOLE_SCREENSHOTS;
const cases = await transportCases();

let browser: Browser | undefined;
beforeAll(async () => {
  if (hasChromium)
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
});
afterAll(async () => {
  await browser?.close();
});

for (const transportCase of cases) {
  describe.skipIf(!hasChromium || !transportCase.available)(`the console in Chromium on ${transportCase.name}`, () => {
    const isolated = transportCase.isolate();
    const dataDir = mkdtempSync(join(tmpdir(), 'mailroom-console-e2e-'));
    let transport: Transport;
    let consoleTransport: Transport;
    let poisoned: PoisonedSystem;
    let running: RunningConsole;
    let page: Page;
    const shot = async (name: string) => {
      if (!screenshots || transportCase.name !== 'SQLite') return;
      mkdirSync(screenshots, { recursive: true });
      await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
    };
    const groupRow = (type: string) => page.locator(`[data-testid=group-row][data-types="${type}"]`);

    beforeAll(async () => {
      transport = await isolated.connect();
      consoleTransport = await isolated.connect();
      poisoned = await startPoisonedSystem(transport);
      running = await startConsole({ transport: consoleTransport, system: poisoned.system, dataDir, port: 0 });
      await poisoned.poison({ orders: 20, ships: 20, refunds: 10 });
      await waitUntil(async () => (await consoleTransport.deadLetters.list({ endpoint: poisoned.endpointName })).length === 50, 30_000);
      const context = await (browser as Browser).newContext({ viewport: { width: 1360, height: 860 } });
      page = await context.newPage();
    });

    afterAll(async () => {
      await page?.context().close();
      await running?.close();
      await poisoned?.stop();
      await consoleTransport?.close();
      await transport?.close();
      await isolated.cleanUp();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('logs in with the printed link and shows 50 poisoned messages as 3 failure groups', async () => {
      expect(running.tokenGenerated).toBe(true);
      await page.goto(running.loginUrl);
      await page.locator('[data-testid=group-row]').nth(2).waitFor();
      expect(await page.locator('[data-testid=group-row]').count()).toBe(3);
      expect(await groupRow(poisoned.types.order).locator('[data-testid=group-count]').textContent()).toBe('20');
      expect(await groupRow(poisoned.types.ship).locator('[data-testid=group-count]').textContent()).toBe('20');
      expect(await groupRow(poisoned.types.refund).locator('[data-testid=group-count]').textContent()).toBe('10');
      await shot('console-failures');
    });

    it('edits and retries one message: a contract violation is refused, the fixed body is handled', async () => {
      await groupRow(poisoned.types.ship).locator('button.link').click();
      await page.locator('[data-testid=letter-link]').first().click();
      await page.locator('[data-testid=letter-detail]').waitFor();
      await page.locator('[data-testid=edit]').click();
      const body = page.locator('[data-testid=edit-body]');
      const original = JSON.parse(await body.inputValue()) as { orderId: number; address: string };
      await body.fill(JSON.stringify({ orderId: 'not a number', address: 'x' }));
      await page.locator('[data-testid=edit-send]').click();
      await page.locator('[data-testid=edit-error]').waitFor();
      expect(await page.locator('[data-testid=edit-error]').textContent()).toMatch(/422/);
      await body.fill(JSON.stringify({ ...original, address: '1 Main Street' }, null, 2));
      await shot('console-edit-and-retry');
      await page.locator('[data-testid=edit-send]').click();
      await page.locator('[data-testid=edit-result]').waitFor();
      await waitUntil(async () => (poisoned.handled.get(poisoned.types.ship) ?? []).length === 1, 15_000);
      expect(poisoned.handled.get(poisoned.types.ship)).toEqual([{ ...original, address: '1 Main Street' }]);
    });

    it('retries a whole group once its cause is fixed, with the job progress shown', async () => {
      poisoned.state.ordersBroken = false;
      await page.goto(`${running.url}/#failures`);
      await groupRow(poisoned.types.order).locator('[data-testid=retry-group]').click();
      await page.locator('[data-testid=job][data-state=done]').first().waitFor({ timeout: 20_000 });
      expect(await page.locator('[data-testid=job][data-state=done] [data-testid=job-done]').first().textContent()).toBe('20');
      await waitUntil(async () => (poisoned.handled.get(poisoned.types.order) ?? []).length === 20, 20_000);
      await page.locator('button', { hasText: 'Refresh' }).click();
      await waitUntil(async () => (await page.locator('[data-testid=group-row]').count()) === 2, 10_000);
      await shot('console-retried');
    });

    it('shows a running endpoint alive from its heartbeats, and stale once it stopped', async () => {
      const name = uniqueName('console-worker');
      const worker = createEndpoint({ name, transport, heartbeat: { intervalMs: 500, version: '9.8.7', breakers: () => ({ 'payment-api': 'closed' }) } });
      await worker.start();
      try {
        await page.goto(`${running.url}/#endpoints`);
        const row = page.locator(`[data-testid=instance-row][data-endpoint="${name}"]`);
        await page.locator(`[data-testid=instance-row][data-endpoint="${name}"][data-state=alive]`).waitFor({ timeout: 15_000 });
        const text = await row.textContent();
        expect(text).toContain('9.8.7');
        expect(text).toContain(`/ ${process.pid}`);
        expect(text).toContain('payment-api: closed');
        await shot('console-endpoints');
      } finally {
        await worker.stop();
      }
      await page.locator(`[data-testid=instance-row][data-endpoint="${name}"][data-state=stale]`).waitFor({ timeout: 15_000 });
    });

    it('draws the choreography graph', async () => {
      await page.goto(`${running.url}/#graph`);
      await page.locator('[data-testid=graph]').waitFor();
      expect(await page.locator('[data-testid=graph] g[data-kind=endpoint]').count()).toBe(1);
      expect(await page.locator('[data-testid=graph] path.edge').count()).toBe(3);
    });
  });
}
