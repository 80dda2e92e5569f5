// The reference shop end to end, as a user meets it: the supervisor starts the six services, and a
// real Chromium drives the web UI. Run on the embedded default (SQLite broker, a SQLite file per
// service, two payments workers), on RabbitMQ + PostgreSQL (a database per service), on NATS
// JetStream and on the PostgreSQL transport (a broker database, two payments workers), each when
// its servers answer (required under CI).
// SHOP_SCREENSHOT_DIR=docs/images saves the screenshots the docs show.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Services, serviceAvailable } from '@mailroom/conformance';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ServicesResponse } from '../src/gateway/api-types.js';
import { deleteNatsPrefix, deleteRabbitNamespace, dropPgDatabase, dropShopDatabases } from './support/cleanup.js';
import { buildUi, type RunningShop, startShop } from './support/shop-process.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  if (process.env.CI) throw new Error(`The shop's browser test needs Chromium at ${CHROMIUM} under CI: apt-get install chromium`);
  console.warn(`[mailroom] skipping the shop's browser tests: no Chromium at ${CHROMIUM} (apt-get install chromium)`);
}
const RABBITMQ_URL = process.env.MAILROOM_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const PG_URL = process.env.MAILROOM_PG_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432';
const NATS_URL = process.env.MAILROOM_NATS_URL ?? 'nats://127.0.0.1:4222';
const onRabbitAndPostgres = hasChromium && (await serviceAvailable(Services.rabbitmq)) && (await serviceAvailable(Services.postgres));
const onNats = hasChromium && (await serviceAvailable(Services.nats));
const onPostgres = hasChromium && (await serviceAvailable(Services.postgres));
const screenshots = process.env.SHOP_SCREENSHOT_DIR ? resolve(process.env.SHOP_SCREENSHOT_DIR) : undefined;
const STEP_MS = 45_000;
const ADMIN_TOKEN = `e2e-${randomBytes(16).toString('hex')}`;

interface Variant {
  readonly name: string;
  readonly enabled: boolean;
  /** The shop's environment for this run; also creates what it needs. */
  setup(dir: string): NodeJS.ProcessEnv;
  /** Reads the e-mails notifications wrote to its own store for an order. */
  emailsOf(env: NodeJS.ProcessEnv, orderId: string): Promise<{ subject: string; to_address: string }[]>;
  /** Deletes what the run left on shared servers. */
  cleanup(env: NodeJS.ProcessEnv): Promise<void>;
  /** Whether to save the docs' screenshots from this run. */
  readonly screenshots: boolean;
  /** Worker processes of payments (competing consumers of one queue). */
  readonly paymentsWorkers: number;
}

const sqliteEmails = async (env: NodeJS.ProcessEnv, orderId: string) => {
  const db = new BetterSqlite3(join(env.SHOP_DATA_DIR as string, 'notifications.db'), { readonly: true });
  try {
    return db.prepare('SELECT subject, to_address FROM emails WHERE order_id = ?').all(orderId) as { subject: string; to_address: string }[];
  } finally {
    db.close();
  }
};

const variants: Variant[] = [
  {
    name: 'embedded: SQLite broker file, a SQLite file per service',
    enabled: hasChromium,
    screenshots: true,
    paymentsWorkers: 2,
    // No SHOP_ADMIN_TOKEN: npm start generates one and prints its login link, which the test opens.
    setup: (dir) => ({ SHOP_DATA_DIR: join(dir, 'data'), MAILROOM_TRANSPORT: '', SHOP_PG_URL: '', SHOP_WORKERS: 'payments=2', SHOP_ADMIN_TOKEN: '' }),
    emailsOf: sqliteEmails,
    cleanup: async () => undefined,
  },
  {
    name: 'RabbitMQ + a PostgreSQL database per service',
    enabled: onRabbitAndPostgres,
    screenshots: false,
    paymentsWorkers: 1,
    setup: (dir) => {
      const id = randomBytes(5).toString('hex');
      return {
        SHOP_DATA_DIR: join(dir, 'data'),
        MAILROOM_TRANSPORT: RABBITMQ_URL,
        SHOP_NAMESPACE: `shopt${id}`,
        SHOP_PG_URL: PG_URL,
        SHOP_PG_DATABASE_PREFIX: `shop_t${id}_`,
        SHOP_ADMIN_TOKEN: ADMIN_TOKEN,
      };
    },
    async emailsOf(env, orderId) {
      const client = new pg.Client({ connectionString: `${PG_URL}/${env.SHOP_PG_DATABASE_PREFIX}notifications` });
      await client.connect();
      try {
        return (await client.query('SELECT subject, to_address FROM emails WHERE order_id = $1', [orderId])).rows;
      } finally {
        await client.end();
      }
    },
    async cleanup(env) {
      await dropShopDatabases(PG_URL, env.SHOP_PG_DATABASE_PREFIX as string);
      await deleteRabbitNamespace(RABBITMQ_URL, env.SHOP_NAMESPACE as string);
    },
  },
  {
    name: 'NATS JetStream, a SQLite file per service',
    enabled: onNats,
    screenshots: false,
    paymentsWorkers: 1,
    setup: (dir) => ({
      SHOP_DATA_DIR: join(dir, 'data'),
      MAILROOM_TRANSPORT: NATS_URL,
      SHOP_NAMESPACE: `shopt${randomBytes(5).toString('hex')}`,
      SHOP_PG_URL: '',
      SHOP_ADMIN_TOKEN: ADMIN_TOKEN,
    }),
    emailsOf: sqliteEmails,
    cleanup: (env) => deleteNatsPrefix(NATS_URL, env.SHOP_NAMESPACE as string),
  },
  {
    name: 'PostgreSQL transport (a broker database, created by the shop), a SQLite file per service',
    enabled: onPostgres,
    screenshots: false,
    paymentsWorkers: 2,
    setup: (dir) => ({
      SHOP_DATA_DIR: join(dir, 'data'),
      MAILROOM_TRANSPORT: `${PG_URL}/shop_t${randomBytes(5).toString('hex')}_broker`,
      SHOP_PG_URL: '',
      SHOP_WORKERS: 'payments=2',
    }),
    emailsOf: sqliteEmails,
    cleanup: (env) => dropPgDatabase(PG_URL, new URL(env.MAILROOM_TRANSPORT as string).pathname.slice(1)),
  },
];

/** Adds the products to the cart, places the order and resolves with its id (the newest order card's). */
async function placeOrder(page: Page, skus: readonly string[]): Promise<string> {
  const before = await page.locator('[data-testid=order]').count();
  for (const sku of skus) await page.click(`[data-testid=product-${sku}]`);
  await page.click('[data-testid=place-order]');
  await page.waitForFunction((count) => document.querySelectorAll('[data-testid=order]').length > count, before, { timeout: STEP_MS });
  return (await page.locator('[data-testid=order]').first().getAttribute('data-order-id')) as string;
}

async function servicesOf(shop: RunningShop, token: string): Promise<ServicesResponse['services']> {
  const response = await fetch(`${shop.url}/api/services`, { headers: { authorization: `Bearer ${token}` } });
  return ((await response.json()) as ServicesResponse).services;
}

/** The operator login link the supervisor printed: the generated token's, or the login page when SHOP_ADMIN_TOKEN is set. */
function loginLink(shop: RunningShop, env: NodeJS.ProcessEnv): { link: string; token: string } {
  if (env.SHOP_ADMIN_TOKEN) return { link: `${shop.url}/login?token=${encodeURIComponent(env.SHOP_ADMIN_TOKEN)}`, token: env.SHOP_ADMIN_TOKEN };
  const match = /Operator login \(services, dead letters, faults\), valid until the shop stops: (http:\/\/\S+\/login\?token=(\S+))/.exec(shop.logs());
  if (!match) throw new Error(`the supervisor printed no login link:\n${shop.logs()}`);
  return { link: match[1] as string, token: decodeURIComponent(match[2] as string) };
}

/** Serves `html` at http://localhost:<port>/: another page on the same site as the shop (only the port differs). */
async function startOtherSite(html: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end(html));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://localhost:${port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function order(id: string): string {
  return `[data-testid=order][data-order-id="${id}"]`;
}

async function waitForStatus(page: Page, id: string, status: string): Promise<void> {
  await page.waitForSelector(`${order(id)}[data-status="${status}"]`, { timeout: STEP_MS });
}

async function stageStates(page: Page, id: string): Promise<string[]> {
  return page.$$eval(`${order(id)} .stage`, (stages) => stages.map((stage) => `${stage.getAttribute('data-stage')}:${stage.getAttribute('data-state')}`));
}

async function setService(page: Page, service: string, action: 'stop' | 'start'): Promise<void> {
  await page.click(`[data-testid=${action}-${service}]`);
  await page.waitForSelector(`[data-testid=service-${service}][data-state="${action === 'stop' ? 'stopped' : 'running'}"]`, { timeout: STEP_MS });
}

async function screenshot(page: Page, variant: Variant, name: string, fullPage = true): Promise<void> {
  if (!screenshots || !variant.screenshots) return;
  mkdirSync(screenshots, { recursive: true });
  await page.screenshot({ path: join(screenshots, name), fullPage });
}

/** The stock of `sku` as the gateway's catalog reports it (inventory answers over RPC). */
async function stockOf(shop: RunningShop, sku: string): Promise<number> {
  const response = await fetch(`${shop.url}/api/products`);
  const { products } = (await response.json()) as { products: { sku: string; stock: number }[] };
  return products.find((p) => p.sku === sku)?.stock as number;
}

/** The status of an order's payment in the payments service's own database (SQLite file or PostgreSQL database). */
async function paymentStatusOf(env: NodeJS.ProcessEnv, orderId: string): Promise<string | undefined> {
  if (env.SHOP_PG_URL) {
    const client = new pg.Client({ connectionString: `${PG_URL}/${env.SHOP_PG_DATABASE_PREFIX}payments` });
    await client.connect();
    try {
      return (await client.query('SELECT status FROM payments WHERE order_id = $1', [orderId])).rows[0]?.status;
    } finally {
      await client.end();
    }
  }
  const db = new BetterSqlite3(join(env.SHOP_DATA_DIR as string, 'payments.db'), { readonly: true });
  try {
    return (db.prepare('SELECT status FROM payments WHERE order_id = ?').get(orderId) as { status: string } | undefined)?.status;
  } finally {
    db.close();
  }
}

describe.runIf(hasChromium)('examples/shop in Chromium', () => {
  let browser: Browser;
  let uiDir: string;

  beforeAll(async () => {
    uiDir = mkdtempSync(join(tmpdir(), 'mailroom-shop-ui-'));
    await buildUi(uiDir);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    rmSync(uiDir, { recursive: true, force: true });
  });

  describe.each(variants)('$name', (variant) => {
    let dir: string;
    let env: NodeJS.ProcessEnv;
    let shop: RunningShop | undefined;
    let page: Page;
    let token: string;
    const ids: Record<string, string> = {};

    beforeAll(async () => {
      if (!variant.enabled) return;
      dir = mkdtempSync(join(tmpdir(), 'mailroom-shop-'));
      // A long payment timeout: these tests stop payments and expect the waiting orders to complete.
      env = { ...variant.setup(dir), SHOP_UI_DIR: uiDir, SHOP_PAYMENT_TIMEOUT_MS: '600000' };
      shop = await startShop(env);
      // A context of its own, so a second page (another site) shares the browser's cookies as it would for a user.
      page = await (await browser.newContext({ viewport: { width: 1360, height: 1000 } })).newPage();
      await page.goto(shop.url);
      // Logged out, the page serves the shopper and asks the operator to log in.
      await page.waitForSelector('[data-testid=operator-login]', { timeout: STEP_MS });
      expect(await page.locator('[data-testid^=service-]').count()).toBe(0);
      const login = loginLink(shop, env);
      token = login.token;
      await page.goto(login.link);
      // The link set the session cookie and redirected: the token is not in the address bar.
      expect(page.url()).toBe(`${shop.url}/`);
      await page.waitForSelector('[data-testid=operator-session]', { timeout: STEP_MS });
      for (const service of ['gateway', 'orders', 'payments', 'inventory', 'shipping', 'notifications']) {
        await page.waitForSelector(`[data-testid=service-${service}][data-state=running]`, { timeout: STEP_MS });
      }
      await page.waitForSelector('[data-testid=product-mug]', { timeout: STEP_MS });
    }, 180_000);

    afterEach(({ task }) => {
      if (task.result?.state === 'fail' && shop) console.error(`shop logs (${variant.name}), last 6000 characters:\n${shop.logs().slice(-6000)}`);
    });

    afterAll(async () => {
      if (!variant.enabled) return;
      await page?.context().close();
      await shop?.stop();
      await variant.cleanup(env);
      rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    it.runIf(variant.enabled)(
      'places an order and sees every step complete live',
      async () => {
        if (variant.paymentsWorkers > 1) {
          expect(await page.textContent('[data-testid=service-payments]')).toContain(`${variant.paymentsWorkers}/${variant.paymentsWorkers} workers`);
        }
        ids.first = await placeOrder(page, ['mug', 'tee']);
        await waitForStatus(page, ids.first, 'completed');
        expect(await stageStates(page, ids.first)).toEqual(['placed:done', 'payment:done', 'stock:done', 'shipment:done', 'result:done']);
        // The order's trace id, from the 202, to look it up in a tracing backend.
        expect(await page.textContent(`${order(ids.first)} [data-testid=order-trace] code`)).toMatch(/^[0-9a-f]{32}$/);
      },
      60_000,
    );

    it.runIf(variant.enabled)(
      'places an order through the legacy v1 API: OrderPlaced v1, upcast by every consumer',
      async () => {
        await page.click('[data-testid=api-v1]');
        ids.legacy = await placeOrder(page, ['stickers']);
        await page.click('[data-testid=api-v2]');
        await waitForStatus(page, ids.legacy, 'completed');
        expect(await page.textContent(`${order(ids.legacy)} .tag`)).toBe('v1');
      },
      60_000,
    );

    it.runIf(variant.enabled)(
      'stops payments: a new order waits in its queue, then completes when payments starts again',
      async () => {
        await setService(page, 'payments', 'stop');
        ids.waiting = await placeOrder(page, ['hoodie']);
        await page.waitForSelector(`${order(ids.waiting)} [data-testid=order-waiting]:has-text("payments is stopped")`, { timeout: STEP_MS });
        await page.waitForFunction(() => Number(document.querySelector('[data-testid=queue-payments]')?.textContent) >= 1, undefined, { timeout: STEP_MS });
        expect(await page.getAttribute(order(ids.waiting), 'data-status')).toBe('pending');
        expect(await stageStates(page, ids.waiting)).toContain('payment:waiting');
        await screenshot(page, variant, 'shop-payments-stopped.png');
        // More pending orders than the connections a browser opens to one server over HTTP/1.1 (6): the page still answers.
        const more: string[] = [];
        for (let i = 0; i < 6; i++) more.push(await placeOrder(page, ['mug']));
        await setService(page, 'payments', 'start');
        await waitForStatus(page, ids.waiting, 'completed');
        for (const id of more) await waitForStatus(page, id, 'completed');
      },
      120_000,
    );

    it.runIf(variant.enabled)(
      'dead-letters the poison order, and retries it from the Mailroom console once the fault is off',
      async () => {
        expect(await page.isChecked('[data-testid=poison-toggle]')).toBe(true);
        ids.poison = await placeOrder(page, ['poison']);
        await page.waitForSelector(`${order(ids.poison)} [data-testid=order-waiting]:has-text("dead-lettered by inventory")`, { timeout: STEP_MS });
        expect(await page.getAttribute(order(ids.poison), 'data-status')).toBe('pending');
        await page.waitForSelector('[data-testid=dead-letter-count]', { timeout: STEP_MS });
        const consoleLink = (await page.getAttribute('[data-testid=console-link]', 'href')) as string;
        expect(consoleLink).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#failures$/);
        await screenshot(page, variant, 'shop-dead-letter.png');

        await page.click('[data-testid=poison-toggle]');
        await page.waitForFunction(() => !(document.querySelector('[data-testid=poison-toggle]') as HTMLInputElement | null)?.checked, undefined, {
          timeout: STEP_MS,
        });
        // The console the supervisor started takes the shop's operator token.
        const consolePage = await page.context().newPage();
        await consolePage.goto(`${new URL(consoleLink).origin}/login?token=${encodeURIComponent(token)}`);
        const group = consolePage.locator('[data-testid=group-row]', { hasText: 'poisoned apple' });
        await group.waitFor({ timeout: STEP_MS });
        expect(await group.textContent()).toContain('MAILROOM_ERR_HANDLER_FAILED');
        await group.locator('[data-testid=retry-group]').click();
        await consolePage.waitForSelector('[data-testid=job][data-state=done]', { timeout: STEP_MS });
        await consolePage.close();
        await waitForStatus(page, ids.poison, 'completed');
      },
      120_000,
    );

    it.runIf(variant.enabled)(
      'queues the quote as a command when inventory is down (plan B), answered once it is back',
      async () => {
        await setService(page, 'inventory', 'stop');
        await page.selectOption('[data-testid=quote-sku]', 'mug');
        await page.click('[data-testid=ask-quote]');
        await page.waitForSelector('[data-testid=quote-result][data-kind=queued]', { timeout: STEP_MS });
        expect(await page.getAttribute('[data-testid=quote-result]', 'data-done')).toBe('false');
        await setService(page, 'inventory', 'start');
        await page.waitForSelector('[data-testid=quote-result][data-done=true]', { timeout: STEP_MS });
        expect(await page.textContent('[data-testid=quote-result]')).toContain('Answered from the queue');
        // Once a call went through again (the UI's catalog refresh), the breaker is closed and a quote is answered over HTTP.
        await page.waitForSelector('[data-testid=breaker]:has-text("breaker closed")', { timeout: STEP_MS });
        await page.click('[data-testid=ask-quote]');
        await page.waitForSelector('[data-testid=quote-result][data-kind=answered]', { timeout: STEP_MS });
        expect(await page.textContent('[data-testid=quote-result]')).toContain('200 OK');
      },
      120_000,
    );

    it.runIf(variant.enabled)(
      'a page on another port of the same site cannot stop a service: no-cors fetch and text/plain form are refused (403)',
      async () => {
        const target = `${shop?.url}/api/services/payments/stop`;
        const other = await startOtherSite(`<!doctype html><body>
          <iframe name="sink"></iframe>
          <form id="form" method="POST" enctype="text/plain" action="${target}" target="sink"><input name='{"x":"' value='"}'></form>
          <script>
            window.results = [];
            fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors', credentials: 'include', body: '{}' })
              .then(() => window.results.push('fetch sent'), (e) => window.results.push('fetch failed ' + e));
            document.getElementById('form').submit();
          </script></body>`);
        const before = (shop as RunningShop).logs().length;
        const attacker = await page.context().newPage();
        try {
          await attacker.goto(other.url);
          await attacker.waitForFunction(() => (window as unknown as { results: string[] }).results.length === 1, undefined, { timeout: STEP_MS });
          const deadline = Date.now() + STEP_MS;
          const refusals = () =>
            (
              (shop as RunningShop)
                .logs()
                .slice(before)
                .match(/operator action POST \/api\/services\/:name\/:action: 403/g) ?? []
            ).length;
          while (refusals() < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
          expect(refusals()).toBe(2);
          expect((shop as RunningShop).logs().slice(before)).toContain('MAILROOM_ERR_AUTH_CROSS_ORIGIN');
          const payments = (await servicesOf(shop as RunningShop, token)).find((s) => s.name === 'payments');
          expect(payments?.desired).toBe('running');
        } finally {
          await attacker.close();
          await other.close();
        }
      },
      60_000,
    );

    it.runIf(variant.enabled)(
      'restarts a service killed with SIGKILL, and orders go on completing',
      async () => {
        const pid = (await servicesOf(shop as RunningShop, token)).find((s) => s.name === 'shipping')?.workers[0]?.pid as number;
        process.kill(pid, 'SIGKILL');
        await page.waitForSelector('[data-testid=service-shipping][data-state=running]:has-text("1 restart")', { timeout: STEP_MS });
        const after = await placeOrder(page, ['mug']);
        await waitForStatus(page, after, 'completed');
      },
      60_000,
    );

    it.runIf(variant.enabled)(
      "notifications wrote each customer's e-mail to its own store",
      async () => {
        const deadline = Date.now() + STEP_MS;
        let emails: { subject: string; to_address: string }[] = [];
        while (emails.length === 0 && Date.now() < deadline) {
          emails = await variant.emailsOf(env, ids.waiting as string);
          if (emails.length === 0) await new Promise((r) => setTimeout(r, 200));
        }
        expect(emails).toHaveLength(1);
        expect(emails[0]?.to_address).toBe('ada@example.com');
        expect(emails[0]?.subject).toMatch(/^Your order is on its way/);
        await screenshot(page, variant, 'shop-overview.png', false);
      },
      60_000,
    );

    it.runIf(variant.enabled)(
      'stops every service process on SIGTERM to the supervisor',
      async () => {
        const pids = (await servicesOf(shop as RunningShop, token)).flatMap((s) => s.workers.map((w) => w.pid as number));
        expect(pids.length).toBe(5 + variant.paymentsWorkers);
        expect(await shop?.stop()).toBe(0);
        const alive = pids.filter((pid) => {
          try {
            process.kill(pid, 0);
            return true;
          } catch {
            return false;
          }
        });
        expect(alive).toEqual([]);
        expect(shop?.logs()).toMatch(/supervisor +\| stopped/);
      },
      60_000,
    );
  });
  // The order saga's payment timeout, on a shop of its own with a short SHOP_PAYMENT_TIMEOUT_MS, on
  // every variant (the timeout is a scheduled message on each transport).
  describe.each(variants)('payment timeout, $name', (variant) => {
    let dir: string;
    let env: NodeJS.ProcessEnv;
    let shop: RunningShop | undefined;
    let page: Page;

    beforeAll(async () => {
      if (!variant.enabled) return;
      dir = mkdtempSync(join(tmpdir(), 'mailroom-shop-timeout-'));
      env = { ...variant.setup(dir), SHOP_UI_DIR: uiDir, SHOP_ADMIN_TOKEN: ADMIN_TOKEN, SHOP_WORKERS: '', SHOP_PAYMENT_TIMEOUT_MS: '3000' };
      shop = await startShop(env);
      page = await (await browser.newContext({ viewport: { width: 1360, height: 1000 } })).newPage();
      await page.goto(`${shop.url}/login?token=${encodeURIComponent(ADMIN_TOKEN)}`);
      await page.waitForSelector('[data-testid=service-payments][data-state=running]', { timeout: STEP_MS });
      await page.waitForSelector('[data-testid=product-hoodie]', { timeout: STEP_MS });
    }, 180_000);

    afterEach(({ task }) => {
      if (task.result?.state === 'fail' && shop)
        console.error(`shop logs (payment timeout, ${variant.name}), last 6000 characters:\n${shop.logs().slice(-6000)}`);
    });

    afterAll(async () => {
      if (!variant.enabled) return;
      await page?.context().close();
      await shop?.stop();
      await variant.cleanup(env);
      rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    it.runIf(variant.enabled)(
      'cancels an order whose payment does not come in time, shows it on the timeline, refunds the late payment and keeps the stock',
      async () => {
        const before = await stockOf(shop as RunningShop, 'hoodie');
        await setService(page, 'payments', 'stop');
        const id = await placeOrder(page, ['hoodie']);
        await waitForStatus(page, id, 'failed');
        expect(await stageStates(page, id)).toEqual(['placed:done', 'payment:failed', 'stock:skipped', 'shipment:skipped', 'result:failed']);
        expect(await page.textContent(order(id))).toContain('Payment timed out');
        expect(await page.textContent(order(id))).toContain('payment timeout');
        await screenshot(page, variant, 'shop-payment-timeout.png');

        // Payments comes back and handles the queued order: the payment it authorizes is refunded (or none is authorized).
        await setService(page, 'payments', 'start');
        const deadline = Date.now() + STEP_MS;
        let status = await paymentStatusOf(env, id);
        while (status !== 'refunded' && status !== 'cancelled' && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 200));
          status = await paymentStatusOf(env, id);
        }
        expect(['refunded', 'cancelled']).toContain(status);
        // A later order of the same product completes, and the stock lost only its quantity: the cancelled order reserved none.
        const after = await placeOrder(page, ['hoodie']);
        await waitForStatus(page, after, 'completed');
        expect(await stockOf(shop as RunningShop, 'hoodie')).toBe(before - 1);
      },
      120_000,
    );
  });
});
