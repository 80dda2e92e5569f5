/**
 * The operations the browser follows: placing an order (started by `OrderPlaced`, v2 or the legacy
 * v1), which fails on `OrderRejected` or `OrderCancelled` (the payment timeout), and a quote queued by the gateway's plan B (started by the `RequestQuote` command).
 */
import type { AnyContract, EventContract } from '@mailroom/core';
import { defineOperation, type OperationDefinition } from '@mailroom/http';
import {
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
import { OrderPlacedV1 } from './legacy-contracts.js';

const ORDER_STEPS = [
  { event: PaymentAuthorized, label: 'Payment authorized' },
  { event: PaymentDeclined, label: 'Payment declined' },
  { event: StockReserved, label: 'Stock reserved' },
  { event: OutOfStock, label: 'Out of stock' },
  { event: PaymentRefunded, label: 'Payment refunded' },
  { event: ShipmentScheduled, label: 'Shipment scheduled' },
];

function placeOrder<S extends AnyContract>(startedBy: S, timeoutMs: number): OperationDefinition<S> {
  return defineOperation({
    name: 'place-order',
    startedBy,
    steps: ORDER_STEPS,
    completesOn: OrderCompleted as EventContract,
    failsOn: [OrderRejected as EventContract, OrderCancelled as EventContract],
    timeout: timeoutMs,
  });
}

/** The operations of the shop with their timeouts (how long an order may stay pending: long enough to stop and restart a service). */
export function shopOperations(orderTimeoutMs: number) {
  return {
    /** An order placed through `POST /api/v2/orders`; the definition the tracker follows. */
    placeOrder: placeOrder(OrderPlaced, orderTimeoutMs),
    /** An order placed through the legacy `POST /api/v1/orders`: the same operation, started by `OrderPlaced` v1. */
    placeOrderV1: placeOrder(OrderPlacedV1, orderTimeoutMs),
    /** A quote the gateway could not get over RPC and queued as a command. */
    quote: defineOperation({ name: 'quote', startedBy: RequestQuote, completesOn: QuoteReady as EventContract, timeout: orderTimeoutMs }),
  };
}
