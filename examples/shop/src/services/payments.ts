// The payments service: authorizes the amount of each order (declining those over the demo card
// limit) and refunds an authorized payment when inventory reports the order out of stock or when
// orders cancelled it (payment timeout); a payment that comes after the cancellation is refunded, and
// an order cancelled before its payment was decided is never authorized.
import { randomUUID } from 'node:crypto';
import type { HandlerContext } from '@mailroom/core';
import { OrderCancelled, OrderPlaced, OutOfStock, PaymentAuthorized, PaymentDeclined, PaymentRefunded } from '../contracts.js';
import { formatCents } from '../money.js';
import { runService } from '../runtime/run-service.js';

/** The demo card's limit: orders above it are declined. */
const CARD_LIMIT_CENTS = 100_000;

interface PaymentRow {
  payment_id: string;
  amount_cents: number;
  status: string;
}

await runService('payments', async ({ db, endpoint }) => {
  await db.migrate([
    `CREATE TABLE IF NOT EXISTS payments (
       payment_id TEXT PRIMARY KEY,
       order_id TEXT NOT NULL UNIQUE,
       amount_cents INTEGER NOT NULL,
       status TEXT NOT NULL,
       created_at TEXT NOT NULL,
       updated_at TEXT NOT NULL
     )`,
  ]);

  endpoint.on(OrderPlaced, async ({ orderId, totalCents }, ctx) => {
    const sql = db.sql(ctx.tx);
    const now = new Date().toISOString();
    const declined = totalCents > CARD_LIMIT_CENTS;
    const paymentId = randomUUID();
    const inserted = await sql.run(
      'INSERT INTO payments (payment_id, order_id, amount_cents, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (order_id) DO NOTHING',
      [paymentId, orderId, totalCents, declined ? 'declined' : 'authorized', now, now],
    );
    if (inserted === 0) return; // already decided for this order
    if (declined) {
      const reason = `Card declined: ${formatCents(totalCents)} is over the card limit of ${formatCents(CARD_LIMIT_CENTS)}`;
      await ctx.publish(PaymentDeclined, { orderId, amountCents: totalCents, reason }, { orderingKey: orderId });
      ctx.log.debug({}, `order ${orderId}: ${reason}`);
    } else {
      await ctx.publish(PaymentAuthorized, { orderId, paymentId, amountCents: totalCents }, { orderingKey: orderId });
      ctx.log.debug({}, `order ${orderId}: ${formatCents(totalCents)} authorized`);
    }
  });

  /** Refunds the order's payment when it is authorized; resolves with false when there is no payment yet. */
  const refund = async (ctx: HandlerContext<unknown>, orderId: string, why: string): Promise<boolean> => {
    const sql = db.sql(ctx.tx);
    const [payment] = await sql.all<PaymentRow>('SELECT payment_id, amount_cents, status FROM payments WHERE order_id = ?', [orderId]);
    if (!payment) return false;
    if (payment.status !== 'authorized') return true; // declined, refunded or cancelled already
    await sql.run('UPDATE payments SET status = ?, updated_at = ? WHERE payment_id = ?', ['refunded', new Date().toISOString(), payment.payment_id]);
    await ctx.publish(PaymentRefunded, { orderId, paymentId: payment.payment_id, amountCents: payment.amount_cents }, { orderingKey: orderId });
    ctx.log.debug({}, `order ${orderId}: ${formatCents(payment.amount_cents)} refunded (${why})`);
    return true;
  };

  endpoint.on(OutOfStock, async ({ orderId }, ctx) => {
    if (!(await refund(ctx, orderId, 'out of stock'))) throw new Error(`no payment for order ${orderId} yet; retrying`);
  });

  endpoint.on(OrderCancelled, async ({ orderId }, ctx) => {
    if (await refund(ctx, orderId, 'order cancelled')) return;
    // No payment decided yet: record the cancellation, so the OrderPlaced still queued authorizes nothing.
    const now = new Date().toISOString();
    const inserted = await db
      .sql(ctx.tx)
      .run(
        'INSERT INTO payments (payment_id, order_id, amount_cents, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (order_id) DO NOTHING',
        [randomUUID(), orderId, 0, 'cancelled', now, now],
      );
    // Another worker decided the payment meanwhile: retry, which then refunds it.
    if (inserted === 0) throw new Error(`the payment of order ${orderId} was decided while cancelling it; retrying`);
    ctx.log.debug({}, `order ${orderId} cancelled before its payment: nothing will be authorized`);
  });
  return undefined;
});
