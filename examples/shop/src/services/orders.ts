// The orders service: owns the order's lifecycle. It completes an order once it is shipped and
// rejects it after a declined payment or after the refund of an order that ran out of stock.
import {
  OrderCompleted,
  OrderPlaced,
  OrderRejected,
  PaymentAuthorized,
  PaymentDeclined,
  PaymentRefunded,
  ShipmentScheduled,
  StockReserved,
} from '../contracts.js';
import { formatCents } from '../money.js';
import { runService } from '../runtime/run-service.js';
import type { Sql } from '../runtime/service-database.js';

interface OrderRow {
  order_id: string;
  total_cents: number;
  status: string;
}

const FINAL = new Set(['completed', 'rejected']);

/** The order, which must be known: an event that overtook its OrderPlaced fails and is retried. */
async function knownOrder(sql: Sql, orderId: string): Promise<OrderRow> {
  const [order] = await sql.all<OrderRow>('SELECT order_id, total_cents, status FROM orders WHERE order_id = ?', [orderId]);
  if (!order) throw new Error(`order ${orderId} is not known yet (its OrderPlaced has not been handled); retrying`);
  return order;
}

async function setStatus(sql: Sql, orderId: string, status: string): Promise<void> {
  await sql.run('UPDATE orders SET status = ?, updated_at = ? WHERE order_id = ?', [status, new Date().toISOString(), orderId]);
}

await runService('orders', async ({ db, endpoint, log }) => {
  await db.migrate([
    `CREATE TABLE IF NOT EXISTS orders (
       order_id TEXT PRIMARY KEY,
       customer_email TEXT NOT NULL,
       total_cents INTEGER NOT NULL,
       status TEXT NOT NULL,
       placed_at TEXT NOT NULL,
       updated_at TEXT NOT NULL
     )`,
  ]);

  endpoint.on(OrderPlaced, async (order, ctx) => {
    const now = new Date().toISOString();
    await db
      .sql(ctx.tx)
      .run(
        'INSERT INTO orders (order_id, customer_email, total_cents, status, placed_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (order_id) DO NOTHING',
        [order.orderId, order.customer.email, order.totalCents, 'placed', now, now],
      );
    ctx.log.debug({}, `order ${order.orderId} placed by ${order.customer.email}: ${formatCents(order.totalCents)} (received as v${ctx.envelope.dataversion})`);
  });

  endpoint.on(PaymentAuthorized, async ({ orderId }, ctx) => {
    const sql = db.sql(ctx.tx);
    const order = await knownOrder(sql, orderId);
    if (order.status === 'placed') await setStatus(sql, orderId, 'paid');
  });

  endpoint.on(StockReserved, async ({ orderId }, ctx) => {
    const sql = db.sql(ctx.tx);
    const order = await knownOrder(sql, orderId);
    if (!FINAL.has(order.status)) await setStatus(sql, orderId, 'reserved');
  });

  endpoint.on(PaymentDeclined, async ({ orderId, reason }, ctx) => {
    const sql = db.sql(ctx.tx);
    const order = await knownOrder(sql, orderId);
    if (FINAL.has(order.status)) return;
    await setStatus(sql, orderId, 'rejected');
    await ctx.publish(OrderRejected, { orderId, reason: 'payment-declined', detail: reason }, { orderingKey: orderId });
    ctx.log.debug({}, `order ${orderId} rejected: ${reason}`);
  });

  endpoint.on(PaymentRefunded, async ({ orderId, amountCents }, ctx) => {
    const sql = db.sql(ctx.tx);
    const order = await knownOrder(sql, orderId);
    if (FINAL.has(order.status)) return;
    await setStatus(sql, orderId, 'rejected');
    const detail = `Out of stock; the payment of ${formatCents(amountCents)} was refunded`;
    await ctx.publish(OrderRejected, { orderId, reason: 'out-of-stock', detail }, { orderingKey: orderId });
    ctx.log.debug({}, `order ${orderId} rejected: ${detail}`);
  });

  endpoint.on(ShipmentScheduled, async ({ orderId, shipmentId, estimatedDelivery }, ctx) => {
    const sql = db.sql(ctx.tx);
    const order = await knownOrder(sql, orderId);
    if (FINAL.has(order.status)) return;
    await setStatus(sql, orderId, 'completed');
    await ctx.publish(OrderCompleted, { orderId, totalCents: order.total_cents, shipmentId, estimatedDelivery }, { orderingKey: orderId });
    ctx.log.debug({}, `order ${orderId} completed`);
  });

  log.debug({}, 'orders handlers registered');
  return undefined;
});
