// The inventory service: owns products, prices and stock. It remembers each order's lines, reserves
// them once the payment is authorized (or reports the order out of stock), answers the catalog and
// quotes over RPC (the gateway's one synchronous question: gRPC, v1 and v2 side by side) and
// quotes from its queue (the gateway's plan B). A cancelled order (payment timeout) gets its
// reserved stock back, or is never reserved when its late payment arrives after the cancellation.
import { createRpcServer } from '@mailroom/rpc';
import { OrderCancelled, OrderPlaced, OutOfStock, PaymentAuthorized, QuoteReady, RequestQuote, StockReserved } from '../contracts.js';
import { runService } from '../runtime/run-service.js';
import { catalogRpcRoutes, PRODUCT_COLUMNS, quote } from './catalog-rpc.js';
import { POISON_SKU, SEED_PRODUCTS } from './inventory-catalog.js';

interface LineRow {
  sku: string;
  quantity: number;
}

/** Thrown by the reservation handler while the poison fault is on: an ordinary, retryable failure. */
class WarehouseRobotError extends Error {
  override readonly name = 'WarehouseRobotError';
}

await runService('inventory', async ({ db, endpoint, faults, log, worker }) => {
  await db.migrate([
    `CREATE TABLE IF NOT EXISTS products (
       sku TEXT PRIMARY KEY,
       name TEXT NOT NULL,
       description TEXT NOT NULL,
       emoji TEXT NOT NULL,
       price_cents INTEGER NOT NULL,
       stock INTEGER NOT NULL CHECK (stock >= 0),
       position INTEGER NOT NULL
     )`,
    `CREATE TABLE IF NOT EXISTS order_lines (
       order_id TEXT NOT NULL,
       sku TEXT NOT NULL,
       quantity INTEGER NOT NULL,
       PRIMARY KEY (order_id, sku)
     )`,
    `CREATE TABLE IF NOT EXISTS reservations (
       order_id TEXT PRIMARY KEY,
       outcome TEXT NOT NULL,
       decided_at TEXT NOT NULL
     )`,
  ]);
  await db.persistence.transaction(async (tx) => {
    for (const [position, p] of SEED_PRODUCTS.entries()) {
      await db
        .sql(tx)
        .run(`INSERT INTO products (${PRODUCT_COLUMNS}, position) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sku) DO NOTHING`, [
          p.sku,
          p.name,
          p.description,
          p.emoji,
          p.priceCents,
          p.stock,
          position,
        ]);
    }
  });

  endpoint.on(OrderPlaced, async ({ orderId, lines }, ctx) => {
    const sql = db.sql(ctx.tx);
    for (const line of lines) {
      await sql.run('INSERT INTO order_lines (order_id, sku, quantity) VALUES (?, ?, ?) ON CONFLICT (order_id, sku) DO NOTHING', [
        orderId,
        line.sku,
        line.quantity,
      ]);
    }
  });

  endpoint.on(PaymentAuthorized, async ({ orderId }, ctx) => {
    const sql = db.sql(ctx.tx);
    const [decided] = await sql.all<{ outcome: string }>('SELECT outcome FROM reservations WHERE order_id = ?', [orderId]);
    if (decided) return;
    const lines = await sql.all<LineRow>('SELECT sku, quantity FROM order_lines WHERE order_id = ? ORDER BY sku', [orderId]);
    if (lines.length === 0) throw new Error(`order ${orderId} is not known yet (its OrderPlaced has not been handled); retrying`);
    if (faults.poison && lines.some((line) => line.sku === POISON_SKU)) {
      throw new WarehouseRobotError(`The warehouse robot crashed on the poisoned apple of order ${orderId} (the poison fault is on)`);
    }
    const missing: { sku: string; requested: number; available: number }[] = [];
    for (const line of lines) {
      const [product] = await sql.all<{ stock: number }>('SELECT stock FROM products WHERE sku = ?', [line.sku]);
      const available = product?.stock ?? 0;
      if (available < line.quantity) missing.push({ sku: line.sku, requested: line.quantity, available });
    }
    const now = new Date().toISOString();
    if (missing.length > 0) {
      await sql.run('INSERT INTO reservations (order_id, outcome, decided_at) VALUES (?, ?, ?)', [orderId, 'out-of-stock', now]);
      await ctx.publish(OutOfStock, { orderId, missing }, { orderingKey: orderId });
      ctx.log.debug({}, `order ${orderId} out of stock: ${missing.map((m) => `${m.sku} ${m.available}/${m.requested}`).join(', ')}`);
      return;
    }
    for (const line of lines) {
      const changed = await sql.run('UPDATE products SET stock = stock - ? WHERE sku = ? AND stock >= ?', [line.quantity, line.sku, line.quantity]);
      if (changed !== 1) throw new Error(`stock of ${line.sku} changed while reserving order ${orderId}; retrying`);
    }
    await sql.run('INSERT INTO reservations (order_id, outcome, decided_at) VALUES (?, ?, ?)', [orderId, 'reserved', now]);
    await ctx.publish(StockReserved, { orderId, lines: lines.map(({ sku, quantity }) => ({ sku, quantity })) }, { orderingKey: orderId });
    ctx.log.debug({}, `order ${orderId} reserved: ${lines.map((l) => `${l.quantity} x ${l.sku}`).join(', ')}`);
  });

  endpoint.on(OrderCancelled, async ({ orderId }, ctx) => {
    const sql = db.sql(ctx.tx);
    const now = new Date().toISOString();
    const [decided] = await sql.all<{ outcome: string }>('SELECT outcome FROM reservations WHERE order_id = ?', [orderId]);
    if (!decided) {
      // Not reserved yet: a payment authorized later finds the order decided and reserves nothing.
      await sql.run('INSERT INTO reservations (order_id, outcome, decided_at) VALUES (?, ?, ?)', [orderId, 'cancelled', now]);
      ctx.log.debug({}, `order ${orderId} cancelled before any reservation`);
      return;
    }
    if (decided.outcome !== 'reserved') return; // out of stock, or released already
    const lines = await sql.all<LineRow>('SELECT sku, quantity FROM order_lines WHERE order_id = ? ORDER BY sku', [orderId]);
    for (const line of lines) await sql.run('UPDATE products SET stock = stock + ? WHERE sku = ?', [line.quantity, line.sku]);
    await sql.run('UPDATE reservations SET outcome = ?, decided_at = ? WHERE order_id = ?', ['released', now, orderId]);
    ctx.log.debug({}, `order ${orderId} cancelled: released ${lines.map((l) => `${l.quantity} x ${l.sku}`).join(', ')}`);
  });

  endpoint.on(RequestQuote, async ({ sku, quantity }, ctx) => {
    const answer = await quote(db.sql(ctx.tx), sku, quantity);
    await ctx.publish(QuoteReady, answer ?? { sku, quantity, name: 'Unknown product', unitPriceCents: 0, inStock: 0, available: false });
    ctx.log.debug({}, `queued quote answered: ${quantity} x ${sku}`);
  });

  // The RPC server runs in the first inventory process (the others only consume), on the port the supervisor gave it.
  const port = Number(process.env.SHOP_INVENTORY_PORT ?? '0');
  if (worker !== 1 || !port) return undefined;
  const app = await createRpcServer({ routes: catalogRpcRoutes(db.read), logger: log });
  return {
    afterStart: async () => {
      // Loopback unless told otherwise (SHOP_INVENTORY_HOST=0.0.0.0 in a pod, where the gateway calls it through a Service).
      const host = process.env.SHOP_INVENTORY_HOST?.trim() || '127.0.0.1';
      await app.listen({ port, host });
      log.info({}, `inventory catalog RPC (gRPC, gRPC-Web, Connect; mailroom.shop.catalog.v1 and v2) on http://${host}:${port}`);
      return undefined;
    },
    beforeStop: () => app.close(),
  };
});
