// The orders service: owns the order's lifecycle as a saga (one instance per order id, its state in
// the service's own database). It completes an order once it is shipped, rejects it after a declined
// payment or after the refund of an order that ran out of stock, and cancels it when the payment has
// not arrived within the payment timeout (SHOP_PAYMENT_TIMEOUT_MS).
import { defineSaga } from '@mailroom/core';
import { z } from 'zod';
import {
  OrderCancelled,
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
import type { ServiceDatabase } from '../runtime/service-database.js';

/** Where an order stands, as the saga keeps it. */
const OrderState = z.object({
  orderId: z.string(),
  totalCents: z.number().int().nonnegative(),
  status: z.enum(['placed', 'paid', 'reserved', 'completed', 'rejected', 'cancelled']),
});
type OrderState = z.infer<typeof OrderState>;

const byOrderId = (message: { orderId: string }) => message.orderId;

/**
 * The order saga: started by `OrderPlaced`, correlated by order id. It asks for the `payment`
 * timeout when the order is placed; the timeout cancels the order (`OrderCancelled`: inventory
 * releases the stock, payments refunds a payment that arrives later) unless the payment arrived
 * first. Messages for a finished order (a late payment, its refund) are ignored by the saga; an event
 * that overtook its `OrderPlaced` is retried. The `orders` table mirrors each order's status.
 */
function orderSaga(db: ServiceDatabase, paymentTimeoutMs: number) {
  const setStatus = async (tx: unknown, state: OrderState, status: OrderState['status']) => {
    state.status = status;
    await db.sql(tx).run('UPDATE orders SET status = ?, updated_at = ? WHERE order_id = ?', [status, new Date().toISOString(), state.orderId]);
  };
  return defineSaga({
    name: 'order',
    startedBy: [OrderPlaced],
    handles: [PaymentAuthorized, StockReserved, PaymentDeclined, PaymentRefunded, ShipmentScheduled],
    correlateBy: {
      'shop.OrderPlaced': byOrderId,
      'shop.PaymentAuthorized': byOrderId,
      'shop.StockReserved': byOrderId,
      'shop.PaymentDeclined': byOrderId,
      'shop.PaymentRefunded': byOrderId,
      'shop.ShipmentScheduled': byOrderId,
    },
    state: OrderState,
    initial: (order): OrderState => ({ orderId: order.orderId, totalCents: order.totalCents, status: 'placed' }),
    onNotStarted: 'retry',
    handlers: {
      'shop.OrderPlaced': async (_state, order, ctx) => {
        const now = new Date().toISOString();
        await db
          .sql(ctx.tx)
          .run(
            'INSERT INTO orders (order_id, customer_email, total_cents, status, placed_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (order_id) DO NOTHING',
            [order.orderId, order.customer.email, order.totalCents, 'placed', now, now],
          );
        await ctx.requestTimeout('payment', { delayMs: paymentTimeoutMs });
        ctx.log.debug(
          {},
          `order ${order.orderId} placed by ${order.customer.email}: ${formatCents(order.totalCents)} (received as v${ctx.envelope.dataversion})`,
        );
      },
      'shop.PaymentAuthorized': async (state, _payment, ctx) => {
        if (state.status === 'placed') await setStatus(ctx.tx, state, 'paid');
      },
      'shop.StockReserved': async (state, _reserved, ctx) => {
        await setStatus(ctx.tx, state, 'reserved');
      },
      'shop.PaymentDeclined': async (state, { reason }, ctx) => {
        await setStatus(ctx.tx, state, 'rejected');
        await ctx.publish(OrderRejected, { orderId: state.orderId, reason: 'payment-declined', detail: reason }, { orderingKey: state.orderId });
        ctx.complete();
        ctx.log.debug({}, `order ${state.orderId} rejected: ${reason}`);
      },
      'shop.PaymentRefunded': async (state, { amountCents }, ctx) => {
        await setStatus(ctx.tx, state, 'rejected');
        const detail = `Out of stock; the payment of ${formatCents(amountCents)} was refunded`;
        await ctx.publish(OrderRejected, { orderId: state.orderId, reason: 'out-of-stock', detail }, { orderingKey: state.orderId });
        ctx.complete();
        ctx.log.debug({}, `order ${state.orderId} rejected: ${detail}`);
      },
      'shop.ShipmentScheduled': async (state, { shipmentId, estimatedDelivery }, ctx) => {
        await setStatus(ctx.tx, state, 'completed');
        await ctx.publish(
          OrderCompleted,
          { orderId: state.orderId, totalCents: state.totalCents, shipmentId, estimatedDelivery },
          { orderingKey: state.orderId },
        );
        ctx.complete();
        ctx.log.debug({}, `order ${state.orderId} completed`);
      },
    },
    timeouts: {
      payment: {
        handler: async (state, _data, ctx) => {
          if (state.status !== 'placed') return; // the payment arrived in time
          await setStatus(ctx.tx, state, 'cancelled');
          const detail = `Cancelled: no payment within ${paymentTimeoutMs / 1000} s (payment timeout); any reserved stock is released`;
          await ctx.publish(OrderCancelled, { orderId: state.orderId, reason: 'payment-timeout', detail }, { orderingKey: state.orderId });
          ctx.complete();
          ctx.log.info({}, `order ${state.orderId} cancelled: no payment within ${paymentTimeoutMs} ms`);
        },
      },
    },
  });
}

await runService('orders', async ({ config, db, endpoint, log }) => {
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
  endpoint.saga(orderSaga(db, config.paymentTimeoutMs));
  log.debug({}, `order saga registered (payment timeout ${config.paymentTimeoutMs} ms)`);
  return undefined;
});
