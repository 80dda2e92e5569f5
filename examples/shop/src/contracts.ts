/**
 * The shop's contracts: every message its services exchange. Services share this file and nothing
 * else (no database, no code beyond it). `shop.OrderPlaced` is in its second version; its first one,
 * still published by the legacy `POST /api/v1/orders`, lives in `legacy-contracts.ts`.
 */
import { defineCommand, defineEvent, fromVersion } from '@mailroom/core';
import { z } from 'zod';

const orderId = z.string().min(1).max(128);
const sku = z.string().regex(/^[a-z0-9-]{1,40}$/, 'a SKU is 1-40 lower-case letters, digits or -');
const cents = z.number().int().nonnegative();
const quantity = z.number().int().min(1).max(99);

/** One line of an order: a product, how many, at which unit price. */
export const OrderLine = z.object({ sku, quantity, unitPriceCents: cents });
/** The type of one order line. */
export type OrderLine = z.infer<typeof OrderLine>;

/** The payload of `shop.OrderPlaced` v1: one product per order, only an e-mail for the customer. */
export const OrderPlacedV1Schema = z.object({ orderId, email: z.email(), sku, quantity, unitPriceCents: cents });

/**
 * A customer placed an order (v2: several lines, a named customer, a total). Consumers accept v1
 * too: the upcaster turns its single product into one line and the e-mail's local part into a name.
 */
export const OrderPlaced = defineEvent('shop.OrderPlaced', {
  version: 2,
  schema: z.object({
    orderId,
    customer: z.object({ name: z.string().min(1).max(100), email: z.email() }),
    lines: z.array(OrderLine).min(1).max(20),
    totalCents: cents,
  }),
  upcast: {
    1: fromVersion(OrderPlacedV1Schema, (v1) => ({
      orderId: v1.orderId,
      customer: { name: v1.email.split('@')[0] ?? v1.email, email: v1.email },
      lines: [{ sku: v1.sku, quantity: v1.quantity, unitPriceCents: v1.unitPriceCents }],
      totalCents: v1.quantity * v1.unitPriceCents,
    })),
  },
  description: 'A customer placed an order; payments, inventory, orders and notifications react',
});

/** Payments authorized the order's amount on the customer's card. */
export const PaymentAuthorized = defineEvent('shop.PaymentAuthorized', {
  version: 1,
  schema: z.object({ orderId, paymentId: z.string(), amountCents: cents }),
  description: 'The amount of an order was authorized',
});

/** Payments refused the order's amount. */
export const PaymentDeclined = defineEvent('shop.PaymentDeclined', {
  version: 1,
  schema: z.object({ orderId, amountCents: cents, reason: z.string() }),
  description: 'The amount of an order was declined',
});

/** Inventory set the order's items aside. */
export const StockReserved = defineEvent('shop.StockReserved', {
  version: 1,
  schema: z.object({ orderId, lines: z.array(z.object({ sku, quantity })).min(1) }),
  description: 'Inventory reserved every line of an order',
});

/** Inventory could not reserve the order's items; payments refunds it. */
export const OutOfStock = defineEvent('shop.OutOfStock', {
  version: 1,
  schema: z.object({ orderId, missing: z.array(z.object({ sku, requested: quantity, available: z.number().int().nonnegative() })).min(1) }),
  description: 'Inventory could not reserve an order: at least one product is short',
});

/** Payments gave the authorized amount back after the order could not be fulfilled. */
export const PaymentRefunded = defineEvent('shop.PaymentRefunded', {
  version: 1,
  schema: z.object({ orderId, paymentId: z.string(), amountCents: cents }),
  description: 'An authorized payment was refunded (compensation of OutOfStock)',
});

/** Shipping booked a carrier for the order. */
export const ShipmentScheduled = defineEvent('shop.ShipmentScheduled', {
  version: 1,
  schema: z.object({ orderId, shipmentId: z.string(), carrier: z.string(), estimatedDelivery: z.iso.date() }),
  description: 'A shipment was booked for a reserved order',
});

/** Orders closed the order successfully: paid, reserved, shipped. */
export const OrderCompleted = defineEvent('shop.OrderCompleted', {
  version: 1,
  schema: z.object({ orderId, totalCents: cents, shipmentId: z.string(), estimatedDelivery: z.iso.date() }),
  description: 'An order was paid, reserved and shipped',
});

/** Orders closed the order unsuccessfully, after any compensation. */
export const OrderRejected = defineEvent('shop.OrderRejected', {
  version: 1,
  schema: z.object({ orderId, reason: z.enum(['payment-declined', 'out-of-stock']), detail: z.string() }),
  description: 'An order failed: payment declined, or out of stock and refunded',
});

/**
 * Orders cancelled the order because its payment did not arrive in time (the order saga's payment
 * timeout): inventory releases what it reserved (or reserves nothing later), payments refunds a
 * payment that arrives after it (or authorizes none).
 */
export const OrderCancelled = defineEvent('shop.OrderCancelled', {
  version: 1,
  schema: z.object({ orderId, reason: z.enum(['payment-timeout']), detail: z.string() }),
  description: 'An order was cancelled: its payment did not arrive before the payment timeout',
});

/** Notifications wrote the customer an e-mail (into its own store). */
export const CustomerNotified = defineEvent('shop.CustomerNotified', {
  version: 1,
  schema: z.object({ orderId, emailId: z.string(), to: z.email(), subject: z.string() }),
  description: 'An e-mail about an order was written to the outgoing mail store',
});

/** The gateway's plan B when inventory cannot answer a price and stock question now: ask it later. */
export const RequestQuote = defineCommand('shop.RequestQuote', {
  version: 1,
  owner: 'inventory',
  schema: z.object({ sku, quantity }),
  description: 'Asks inventory for a price and stock quote, answered by QuoteReady (queued when its HTTP API is down)',
});

/** Inventory's answer to a queued quote request. */
export const QuoteReady = defineEvent('shop.QuoteReady', {
  version: 1,
  schema: z.object({ sku, quantity, name: z.string(), unitPriceCents: cents, inStock: z.number().int().nonnegative(), available: z.boolean() }),
  description: 'A price and stock quote answered from the queue',
});
