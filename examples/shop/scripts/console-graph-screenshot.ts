// Writes docs/images/console-graph.png: the Mailroom console's choreography view of the shop's system,
// in headless Chromium. Run from the repository root after `npm run build`:
//   node --conditions=source --import tsx examples/shop/scripts/console-graph-screenshot.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startConsole } from '@mailroom/console';
import { createMemoryTransport } from '@mailroom/core';
import { chromium } from 'playwright-core';
import { shopSystem } from '../src/system.js';

const dataDir = mkdtempSync(join(tmpdir(), 'mailroom-console-graph-'));
const transport = createMemoryTransport();
const running = await startConsole({ transport, system: shopSystem, dataDir, port: 0 });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
try {
  const page = await (await browser.newContext({ viewport: { width: 1360, height: 860 } })).newPage();
  await page.goto(running.loginUrl);
  await page.goto(`${running.url}/#graph`);
  await page.locator('[data-testid=graph]').waitFor();
  await page.screenshot({ path: join(process.cwd(), 'docs', 'images', 'console-graph.png'), fullPage: true });
} finally {
  await browser.close();
  await running.close();
  await transport.close();
  rmSync(dataDir, { recursive: true, force: true });
}
