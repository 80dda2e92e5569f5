// The shop under OpenTelemetry, end to end, per transport: the services export their spans over
// OTLP/HTTP to a receiver in this test, and one order must be one trace across all six services,
// with every producer span the parent of (and linked from) its consumer span, the outbox relay hop
// inside the trace, and a poisoned order's retries and dead letter as span events. On SQLite a real
// Prometheus (Debian's package) scrapes every process and PromQL reads the counts; on a nats-server
// of the test's own, readiness turns 503 while the broker is stopped and 200 once it is back.
// SHOP_SCREENSHOT_DIR=docs/images also renders the trace as a waterfall page and the Prometheus graph
// page in Chromium, for docs/observability.md.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Services, serviceAvailable } from '@mailroom/conformance';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderAccepted } from '../src/gateway/api-types.js';
import { SERVICE_NAMES } from '../src/service-names.js';
import { TRACKER_ENDPOINT } from '../src/system.js';
import { deleteRabbitNamespace } from './support/cleanup.js';
import { OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver.js';
import { NATS_SERVER, OwnNatsServer } from './support/own-nats-server.js';
import { OwnPrometheus, PROMETHEUS } from './support/own-prometheus.js';
import { type RunningShop, startShop } from './support/shop-process.js';
import { renderWaterfall } from './support/trace-waterfall.js';

const RABBITMQ_URL = process.env.MAILROOM_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const onRabbit = await serviceAvailable(Services.rabbitmq);
const hasNatsServer = existsSync(NATS_SERVER);
const hasPrometheus = existsSync(PROMETHEUS);
for (const [ok, what] of [
  [hasNatsServer, `${NATS_SERVER} (apt-get install nats-server): the NATS run starts a server of its own`],
  [hasPrometheus, `${PROMETHEUS} (apt-get install prometheus): the metrics check scrapes the shop with it`],
] as const) {
  if (ok) continue;
  if (process.env.CI) throw new Error(`The shop's observability test needs ${what} under CI`);
  console.warn(`[mailroom] skipping part of the shop's observability test: no ${what}`);
}
const CHROMIUM = '/usr/bin/chromium';
const screenshots = process.env.SHOP_SCREENSHOT_DIR && existsSync(CHROMIUM) ? resolve(process.env.SHOP_SCREENSHOT_DIR) : undefined;
const SPAN_KIND = { server: 2, client: 3, producer: 4, consumer: 5 } as const;

interface Variant {
  readonly name: string;
  readonly enabled: boolean;
  /** Scrape the shop with Prometheus in this run. */
  readonly prometheus: boolean;
  /** Run on a nats-server of the test's own and stop / start it. */
  readonly ownNats: boolean;
  setup(dir: string): NodeJS.ProcessEnv;
  cleanup(env: NodeJS.ProcessEnv): Promise<void>;
}

const variants: Variant[] = [
  {
    name: 'SQLite broker file',
    enabled: true,
    prometheus: hasPrometheus,
    ownNats: false,
    setup: () => ({ MAILROOM_TRANSPORT: '' }),
    cleanup: async () => undefined,
  },
  {
    name: 'RabbitMQ',
    enabled: onRabbit,
    prometheus: false,
    ownNats: false,
    setup: () => ({ MAILROOM_TRANSPORT: RABBITMQ_URL, SHOP_NAMESPACE: `shopo${randomBytes(5).toString('hex')}` }),
    cleanup: (env) => deleteRabbitNamespace(RABBITMQ_URL, env.SHOP_NAMESPACE as string),
  },
  {
    name: 'NATS JetStream (a nats-server of its own)',
    enabled: hasNatsServer,
    prometheus: false,
    ownNats: true,
    setup: () => ({ SHOP_NAMESPACE: `shopo${randomBytes(5).toString('hex')}` }),
    cleanup: async () => undefined,
  },
];

async function until<T>(what: string, read: () => Promise<T | undefined> | T | undefined, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await read();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms${last ? ` (${String(last)})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function placeOrder(shop: RunningShop, sku: string): Promise<OrderAccepted> {
  const response = await fetch(`${shop.url}/api/v2/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customer: { name: 'Ada', email: 'ada@example.com' }, lines: [{ sku, quantity: 1 }] }),
  });
  expect(response.status).toBe(202);
  const accepted = (await response.json()) as OrderAccepted;
  expect(accepted.traceId).toMatch(/^[0-9a-f]{32}$/);
  return accepted;
}

async function operationStatus(shop: RunningShop, accepted: OrderAccepted): Promise<string> {
  return ((await (await fetch(`${shop.url}${accepted.href}`)).json()) as { status: string }).status;
}

/** The ops URL of each process, from the file_sd targets file the supervisor writes. */
function opsUrls(dataDir: string): Map<string, string> {
  const groups = JSON.parse(readFileSync(join(dataDir, 'prometheus-targets.json'), 'utf8')) as { targets: string[]; labels: { service: string } }[];
  return new Map(groups.map((group) => [group.labels.service, `http://${group.targets[0]}`]));
}

describe.each(variants.filter((variant) => variant.enabled))('observability of the shop on $name', (variant) => {
  const receiver = new OtlpReceiver();
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let shop: RunningShop | undefined;
  let nats: OwnNatsServer | undefined;
  let prometheus: OwnPrometheus | undefined;
  let completed: OrderAccepted | undefined;
  let poisoned: OrderAccepted | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mailroom-shop-otel-'));
    env = { ...variant.setup(dir), SHOP_DATA_DIR: join(dir, 'data'), SHOP_PG_URL: '', OTEL_BSP_SCHEDULE_DELAY: '200' };
    if (variant.ownNats) {
      nats = new OwnNatsServer(join(dir, 'nats'));
      await nats.start();
      env.MAILROOM_TRANSPORT = nats.url;
    }
    env.OTEL_EXPORTER_OTLP_ENDPOINT = await receiver.start();
    shop = await startShop(env);
  }, 180_000);

  afterAll(async () => {
    const code = await shop?.stop();
    await prometheus?.stop();
    await receiver.stop();
    await nats?.stop();
    await variant.cleanup(env).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(0);
  }, 60_000);

  it('makes one order one trace across all six services: producer spans parent and link their consumer spans, the relay hop inside', async () => {
    const running = shop as RunningShop;
    completed = await placeOrder(running, 'mug');
    await until('the order completed', async () => ((await operationStatus(running, completed as OrderAccepted)) === 'completed' ? true : undefined));
    const traceId = completed.traceId as string;
    // Spans arrive in batches: wait for the last hop (notifications' relay sending CustomerNotified, which nobody consumes).
    const spans = await until('every hop of the order exported', () => {
      const found = receiver.trace(traceId);
      const last = found.some((span) => span.kind === SPAN_KIND.client && span.name === 'send shop.CustomerNotified');
      return last && new Set(found.map((span) => span.service)).size === SERVICE_NAMES.length ? found : undefined;
    });
    expect(new Set(spans.map((span) => span.service))).toEqual(new Set(SERVICE_NAMES));
    const byId = new Map(spans.map((span) => [span.spanId, span]));

    // The order's root: the gateway's server span of POST /api/v2/orders, whose catalog RPC (gRPC) joins inventory's server span.
    const roots = spans.filter((span) => span.parentSpanId === undefined);
    expect(roots.map((span) => [span.service, span.kind])).toEqual([['gateway', SPAN_KIND.server]]);
    const call = spans.find((span) => span.service === 'gateway' && span.kind === SPAN_KIND.client && span.attributes['mailroom.rpc.target'] === 'inventory');
    const served = spans.find((span) => span.service === 'inventory' && span.kind === SPAN_KIND.server && span.parentSpanId === call?.spanId);
    expect(call?.attributes['rpc.system']).toBe('grpc');
    expect(served?.name).toBe(call?.name);
    expect(served?.attributes['rpc.service']).toMatch(/^mailroom\.shop\.catalog\.v2\./);
    expect(served?.attributes['rpc.grpc.status_code']).toBe(0);

    // Every consumer span is the child of, and linked to, the producer span of the message it processes.
    const consumers = spans.filter((span) => span.kind === SPAN_KIND.consumer);
    expect(consumers.length).toBeGreaterThanOrEqual(15);
    for (const consumer of consumers) {
      const producer = byId.get(consumer.parentSpanId as string);
      expect(producer?.kind, `${consumer.service} ${consumer.name}`).toBe(SPAN_KIND.producer);
      expect(producer?.attributes['messaging.message.id']).toBe(consumer.attributes['messaging.message.id']);
      expect(consumer.links.map((link) => link.spanId)).toContain(producer?.spanId);
      expect(consumer.attributes['messaging.message.conversation_id']).toBe(completed.orderId);
    }
    // Every message left through the outbox: its relay's send span is a child of (and linked to) its create span.
    const creates = spans.filter((span) => span.kind === SPAN_KIND.producer && span.name.startsWith('create '));
    expect(creates.length).toBeGreaterThanOrEqual(6);
    for (const create of creates) {
      const relayed = spans.find((span) => span.kind === SPAN_KIND.client && span.parentSpanId === create.spanId && span.name.startsWith('send '));
      expect(relayed, `relay hop of ${create.service} ${create.name}`).toBeDefined();
      expect(relayed?.links.map((link) => link.spanId)).toEqual([create.spanId]);
      expect(relayed?.attributes['mailroom.endpoint']).toBe(create.service);
    }
    const system = { 'SQLite broker file': 'sqlite', RabbitMQ: 'rabbitmq' }[variant.name] ?? 'nats';
    expect(new Set(consumers.map((span) => span.attributes['messaging.system']))).toEqual(new Set([system]));
    expect(consumers.some((span) => span.attributes['messaging.consumer.group.name'] === TRACKER_ENDPOINT)).toBe(true);

    if (screenshots && variant.name === 'SQLite broker file') await screenshotWaterfall(spans, dir);
  }, 120_000);

  it("shows a poisoned order's retries and its dead letter as events of its trace", async () => {
    const running = shop as RunningShop;
    poisoned = await placeOrder(running, 'poison');
    const traceId = poisoned.traceId as string;
    const failed = await until('the dead letter in the trace', () => {
      const spans = receiver.trace(traceId).filter((span) => span.service === 'inventory' && span.name === 'process shop.PaymentAuthorized');
      return spans.some((span) => span.events.some((event) => event.name === 'mailroom.dead_letter')) ? spans : undefined;
    });
    const attempts = failed.map((span) => span.attributes['mailroom.delivery.attempt']).sort();
    // FAST_SETTINGS: one immediate and one delayed retry, so three attempts, the last dead-lettered.
    expect(attempts).toEqual([1, 2, 3]);
    for (const span of failed) {
      const event = span.events.find((e) => e.name === 'mailroom.retry' || e.name === 'mailroom.dead_letter');
      expect(event?.attributes['error.type']).toMatch(/^MAILROOM_ERR_[A-Z_]+$/);
      expect(event?.name).toBe(span.attributes['mailroom.delivery.attempt'] === 3 ? 'mailroom.dead_letter' : 'mailroom.retry');
      expect(span.status).toBe(2);
    }
    expect(
      failed.find((span) => span.attributes['mailroom.delivery.attempt'] === 2)?.events.find((e) => e.name === 'mailroom.retry')?.attributes,
    ).toMatchObject({
      'mailroom.retry.delay_ms': expect.any(Number),
    });
  }, 120_000);

  it.runIf(variant.prometheus)(
    'is scraped by Prometheus: PromQL returns handled counts per endpoint and the dead letter of the poisoned order',
    async () => {
      const dataDir = env.SHOP_DATA_DIR as string;
      prometheus = new OwnPrometheus(dir, join(dataDir, 'prometheus-targets.json'));
      await prometheus.start();
      const up = await until('every process scraped', async () => {
        const samples = await (prometheus as OwnPrometheus).query('up == 1');
        return samples.length >= SERVICE_NAMES.length ? samples : undefined;
      });
      expect(new Set(up.map((sample) => sample.metric.service))).toEqual(new Set(SERVICE_NAMES));
      const handled = await until('handled counts per endpoint', async () => {
        const samples = await (prometheus as OwnPrometheus).query(
          'sum by (messaging_consumer_group_name) (messaging_process_duration_count{mailroom_outcome="ack"})',
        );
        return samples.length >= SERVICE_NAMES.length ? samples : undefined;
      });
      const perEndpoint = Object.fromEntries(handled.map((sample) => [sample.metric.messaging_consumer_group_name, sample.value]));
      for (const endpoint of ['orders', 'payments', 'inventory', 'shipping', 'notifications', TRACKER_ENDPOINT])
        expect(perEndpoint[endpoint]).toBeGreaterThan(0);
      const deadLetters = await until('the dead-letter count', async () => {
        const samples = await (prometheus as OwnPrometheus).query('sum by (messaging_consumer_group_name, error_type) (mailroom_messages_dead_lettered_total)');
        return samples.length > 0 ? samples : undefined;
      });
      expect(deadLetters).toEqual([{ metric: { messaging_consumer_group_name: 'inventory', error_type: expect.stringMatching(/^MAILROOM_ERR_/) }, value: 1 }]);
      const depth = await (prometheus as OwnPrometheus).query('mailroom_queue_dead_letters{mailroom_endpoint="inventory"}');
      expect(depth.map((sample) => sample.value)).toEqual([1]);
      if (screenshots) {
        // Some traffic to draw: an order every 300 ms for 20 s, then the graph page.
        const until = Date.now() + 20_000;
        while (Date.now() < until) {
          await placeOrder(shop as RunningShop, 'stickers');
          await new Promise((resolve) => setTimeout(resolve, 300));
        }
        await screenshotPrometheus(prometheus);
      }
    },
    120_000,
  );

  it.runIf(variant.ownNats)(
    'turns /health/ready 503 while the broker is stopped and 200 once it is back',
    async () => {
      const running = shop as RunningShop;
      const ops = opsUrls(env.SHOP_DATA_DIR as string);
      const ready = async (service: string) => (await fetch(`${ops.get(service)}/health/ready`)).status;
      for (const service of SERVICE_NAMES) expect(await ready(service)).toBe(200);
      expect((await fetch(`${ops.get('orders')}/health/live`)).status).toBe(200);
      await (nats as OwnNatsServer).stop();
      await until('every service not ready', async () => {
        const statuses = await Promise.all(SERVICE_NAMES.map(ready));
        return statuses.every((status) => status === 503) ? true : undefined;
      });
      const body = (await (await fetch(`${ops.get('orders')}/health/ready`)).json()) as { endpoints: { checks: { name: string; healthy: boolean }[] }[] };
      expect(body.endpoints[0]?.checks.find((check) => check.name === 'transport')?.healthy).toBe(false);
      // Liveness does not depend on the broker: a broker outage must not restart the process.
      expect((await fetch(`${ops.get('orders')}/health/live`)).status).toBe(200);
      await (nats as OwnNatsServer).start();
      await until(
        'every service ready again',
        async () => {
          const statuses = await Promise.all(SERVICE_NAMES.map(ready));
          return statuses.every((status) => status === 200) ? true : undefined;
        },
        90_000,
      );
      const after = await placeOrder(running, 'mug');
      await until(
        'an order placed after the outage completed',
        async () => ((await operationStatus(running, after)) === 'completed' ? true : undefined),
        60_000,
      );
    },
    240_000,
  );
});

async function screenshotWaterfall(spans: readonly ReceivedSpan[], dir: string): Promise<void> {
  const page = join(dir, 'trace.html');
  writeFileSync(page, renderWaterfall(spans));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const tab = await browser.newPage({ viewport: { width: 1400, height: 900 }, deviceScaleFactor: 1 });
    await tab.goto(`file://${page}`);
    mkdirSync(screenshots as string, { recursive: true });
    await tab.screenshot({ path: join(screenshots as string, 'observability-trace.png'), fullPage: true });
  } finally {
    await browser.close();
  }
}

async function screenshotPrometheus(prometheus: OwnPrometheus): Promise<void> {
  const expr = 'sum by (messaging_consumer_group_name) (increase(messaging_process_duration_count[10s]))';
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const tab = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await tab.goto(`${prometheus.url}/graph?g0.expr=${encodeURIComponent(expr)}&g0.tab=0&g0.range_input=1m`);
    await tab.waitForSelector('.graph-legend, .legend, canvas', { timeout: 20_000 }).catch(() => undefined);
    await tab.waitForTimeout(1500);
    mkdirSync(screenshots as string, { recursive: true });
    await tab.screenshot({ path: join(screenshots as string, 'observability-prometheus.png') });
  } finally {
    await browser.close();
  }
}
