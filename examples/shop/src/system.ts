/**
 * The shop as one declaration: its endpoints and what each consumes, publishes and sends. The
 * services register exactly these handlers; `mailroom.config.ts` hands it to the CLI.
 */
import { defineSystem } from '@mailroom/core';
import {
  CustomerNotified,
  OrderCancelled,
  OrderCompleted,
  OrderPlaced,
  OrderRejected,
  OutOfStock,
  PaymentAuthorized,
  PaymentDeclined,
  PaymentRefunded,
  QuoteReady,
  RequestQuote,
  ShipmentScheduled,
  StockReserved,
} from './contracts.js';

export { SERVICE_NAMES, type ServiceName } from './service-names.js';

/** The endpoint of the gateway's operation tracker (it follows orders and quotes for the browser). */
export const TRACKER_ENDPOINT = 'gateway-operations';

/** The contracts the operation tracker follows (it records them for the browser). */
export const TRACKED = [
  OrderPlaced,
  PaymentAuthorized,
  PaymentDeclined,
  StockReserved,
  OutOfStock,
  PaymentRefunded,
  ShipmentScheduled,
  OrderCompleted,
  OrderRejected,
  OrderCancelled,
  QuoteReady,
] as const;

/** The shop's endpoints and their messages, checked by `defineSystem`. */
export const shopSystem = defineSystem({
  name: 'Mailroom shop',
  version: '1.0.0',
  description: 'The Mailroom reference system: six services choreographed by events, each with its own database.',
  endpoints: [
    {
      name: 'gateway',
      description: 'HTTP API and web UI: accepts orders (202 + operation), asks inventory for quotes over RPC (gRPC), queues the question when it cannot',
      publishes: [OrderPlaced],
      sends: [RequestQuote],
    },
    { name: TRACKER_ENDPOINT, description: "The gateway's operation tracker: records each step of an order for the browser", consumes: [...TRACKED] },
    {
      name: 'orders',
      description: 'Owns the order (a saga): completes it once shipped, rejects it after a declined payment or a refund, cancels it when the payment times out',
      consumes: [OrderPlaced, PaymentAuthorized, StockReserved, PaymentDeclined, PaymentRefunded, ShipmentScheduled],
      publishes: [OrderCompleted, OrderRejected, OrderCancelled],
    },
    {
      name: 'payments',
      description: 'Authorizes the amount of an order; refunds it when the stock is short or the order was cancelled',
      consumes: [OrderPlaced, OutOfStock, OrderCancelled],
      publishes: [PaymentAuthorized, PaymentDeclined, PaymentRefunded],
    },
    {
      name: 'inventory',
      description:
        'Owns products, prices and stock: reserves paid orders, answers the catalog and quotes over RPC (gRPC, catalog v1 and v2) and from the queue',
      consumes: [OrderPlaced, PaymentAuthorized, OrderCancelled, RequestQuote],
      publishes: [StockReserved, OutOfStock, QuoteReady],
    },
    { name: 'shipping', description: 'Books a carrier for reserved orders', consumes: [StockReserved], publishes: [ShipmentScheduled] },
    {
      name: 'notifications',
      description: 'Writes the customer an e-mail when an order completes, fails or is cancelled',
      consumes: [OrderPlaced, OrderCompleted, OrderRejected, OrderCancelled],
      publishes: [CustomerNotified],
    },
  ],
});
