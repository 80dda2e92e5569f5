// Inventory's catalog RPC, v1 and v2 side by side on one server, read from a real products table
// (SQLite), and the gateway's resilient v2 client on it: typed answers, validation, NotFound, and
// the cached catalog with the breaker state once inventory is gone.
import type { AddressInfo } from 'node:net';
import { Code, createClient } from '@connectrpc/connect';
import { createRpcServer, createRpcTransport, RpcErrorCodes } from '@mailroom/rpc';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createInventoryClient } from '../src/gateway/inventory-client.js';
import * as v1 from '../src/gen/mailroom/shop/catalog/v1/catalog_pb.js';
import * as v2 from '../src/gen/mailroom/shop/catalog/v2/catalog_pb.js';
import type { Sql } from '../src/runtime/service-database.js';
import { catalogRpcRoutes, PRODUCT_COLUMNS } from '../src/services/catalog-rpc.js';
import { SEED_PRODUCTS } from '../src/services/inventory-catalog.js';

const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Inventory's products table with the seed products, behind the shop's `Sql`. */
function productsTable(): Sql {
  const db = new BetterSqlite3(':memory:');
  cleanups.push(() => db.close());
  db.exec(`CREATE TABLE products (sku TEXT PRIMARY KEY, name TEXT, description TEXT, emoji TEXT, price_cents INTEGER, stock INTEGER, position INTEGER)`);
  const insert = db.prepare(`INSERT INTO products (${PRODUCT_COLUMNS}, position) VALUES (?, ?, ?, ?, ?, ?, ?)`);
  for (const [position, p] of SEED_PRODUCTS.entries()) insert.run(p.sku, p.name, p.description, p.emoji, p.priceCents, p.stock, position);
  return {
    all: async <R>(sql: string, params: readonly unknown[] = []) => db.prepare(sql).all(...params) as R[],
    run: async (sql: string, params: readonly unknown[] = []) => db.prepare(sql).run(...params).changes,
  };
}

async function inventory() {
  const app = await createRpcServer({ routes: catalogRpcRoutes(productsTable()), logger: silent });
  await app.listen({ host: '127.0.0.1', port: 0 });
  cleanups.push(() => app.close());
  return { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}

describe('inventory catalog RPC', () => {
  it('serves mailroom.shop.catalog.v1 and .v2 side by side from the same table', async () => {
    const { url } = await inventory();
    const transport = createRpcTransport({ name: 'inventory', baseUrl: url, logger: silent });
    cleanups.push(() => transport.close());
    const one = createClient(v1.CatalogService, transport);
    const two = createClient(v2.CatalogService, transport);

    const [listed1, listed2] = await Promise.all([one.listProducts({}), two.listProducts({})]);
    expect(listed1.products.map((p) => p.sku)).toEqual(SEED_PRODUCTS.map((p) => p.sku));
    expect(listed1.products[0]).toMatchObject({ sku: 'mug', priceCents: 1200, stock: 500 });
    expect(listed2.products[0]).toMatchObject({ sku: 'mug', price: { currencyCode: 'USD', minorUnits: 1200n }, stock: 500 });

    expect(await one.getQuote({ sku: 'hoodie', quantity: 2 })).toMatchObject({ sku: 'hoodie', quantity: 2, unitPriceCents: 4900, inStock: 5, available: true });
    const cart = await two.getQuote({
      lines: [
        { sku: 'mug', quantity: 2 },
        { sku: 'hoodie', quantity: 6 },
      ],
    });
    expect(cart.lines.map((line) => [line.sku, Number(line.unitPrice?.minorUnits), line.available])).toEqual([
      ['mug', 1200, true],
      ['hoodie', 4900, false],
    ]);
    expect(cart.total).toMatchObject({ currencyCode: 'USD', minorUnits: BigInt(2 * 1200 + 6 * 4900) });
    expect(cart.available).toBe(false);
  });

  it('answers NotFound for an unknown SKU and InvalidArgument for a bad quantity or an empty cart, in both versions', async () => {
    const { url } = await inventory();
    const transport = createRpcTransport({ name: 'inventory', baseUrl: url, retry: false, logger: silent });
    cleanups.push(() => transport.close());
    const one = createClient(v1.CatalogService, transport);
    const two = createClient(v2.CatalogService, transport);
    const code = (promise: Promise<unknown>) =>
      promise.then(
        () => undefined,
        (error: { rpcCode?: Code }) => error.rpcCode,
      );
    expect(await code(one.getQuote({ sku: 'unicorn', quantity: 1 }))).toBe(Code.NotFound);
    expect(await code(two.getQuote({ lines: [{ sku: 'unicorn', quantity: 1 }] }))).toBe(Code.NotFound);
    expect(await code(one.getQuote({ sku: 'mug', quantity: 0 }))).toBe(Code.InvalidArgument);
    expect(await code(two.getQuote({ lines: [{ sku: 'mug', quantity: 100 }] }))).toBe(Code.InvalidArgument);
    expect(await code(two.getQuote({ lines: [] }))).toBe(Code.InvalidArgument);
  });

  it("is what the gateway's client reads: live catalog and quotes, then the cached copy and the open breaker when inventory is gone", async () => {
    const { app, url } = await inventory();
    const client = createInventoryClient({ baseUrl: url, halfOpenAfterMs: 60_000, logger: silent });
    cleanups.push(() => client.close());
    const live = await client.catalog();
    expect(live).toMatchObject({ source: 'live', breaker: 'closed' });
    expect(live?.products.find((p) => p.sku === 'typewriter')).toMatchObject({ priceCents: 145_000, stock: 3 });
    expect(await client.quote('stamp', 1)).toEqual({
      sku: 'stamp',
      quantity: 1,
      name: 'Inverted Jenny stamp',
      unitPriceCents: 900,
      inStock: 0,
      available: false,
    });

    await app.close();
    const cached = await client.catalog();
    expect(cached).toMatchObject({ source: 'cached', fetchedAt: live?.fetchedAt, products: live?.products });
    expect(client.breaker).toBe('closed');
    // The catalog's two attempts were refused; the quote's first is the third failure in a row: the
    // breaker opens, and refuses the retry.
    await expect(client.quote('mug', 1)).rejects.toMatchObject({
      code: RpcErrorCodes.RPC_CIRCUIT_OPEN,
      attempts: 1,
      cause: { code: RpcErrorCodes.RPC_NETWORK },
    });
    expect(client.breaker).toBe('open');
    await expect(client.quote('mug', 1)).rejects.toMatchObject({ code: RpcErrorCodes.RPC_CIRCUIT_OPEN, attempts: 0 });
  });
});
