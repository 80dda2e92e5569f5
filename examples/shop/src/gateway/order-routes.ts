import type { Endpoint, OperationStore } from '@mailroom/core';
import { currentTraceId, startOperation, versionedRoute } from '@mailroom/http';
import type { FastifyInstance } from 'fastify';
import { v7 as uuidv7 } from 'uuid';
import type { OrderLine } from '../contracts.js';
import type { ProductView } from '../inventory-api.js';
import type { shopOperations } from '../operations.js';
import type { OrderAccepted, PlaceOrderV1, PlaceOrderV2 } from './api-types.js';
import type { InventoryClient } from './inventory-client.js';
import { ShopProblems, sendProblem } from './problems.js';

/** What the order routes need. */
export interface OrderRoutesOptions {
  store: OperationStore;
  /** The gateway's endpoint: the starting event leaves through its outbox. */
  endpoint: Endpoint<unknown>;
  operations: ReturnType<typeof shopOperations>;
  inventory: InventoryClient;
}

const sku = { type: 'string', pattern: '^[a-z0-9-]{1,40}$' } as const;
const quantity = { type: 'integer', minimum: 1, maximum: 99 } as const;
const email = { type: 'string', format: 'email', maxLength: 200 } as const;

const v2Body = {
  type: 'object',
  additionalProperties: false,
  required: ['customer', 'lines'],
  properties: {
    customer: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'email'],
      properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, email },
    },
    lines: {
      type: 'array',
      minItems: 1,
      maxItems: 20,
      items: { type: 'object', additionalProperties: false, required: ['sku', 'quantity'], properties: { sku, quantity } },
    },
  },
} as const;

const v1Body = {
  type: 'object',
  additionalProperties: false,
  required: ['email', 'sku', 'quantity'],
  properties: { email, sku, quantity },
} as const;

/**
 * `POST /orders` in two versions, side by side (`/v1/orders`, `/v2/orders`, or `/orders` with
 * `Accept-Version`; v2 by default). Both price the order from inventory's catalog (live over RPC,
 * or the last copy when inventory is down), record the operation, publish `shop.OrderPlaced`
 * through the gateway's outbox and answer `202 Accepted` with the operation's `Location`.
 * v1 is the first API, kept for old clients: it still publishes `shop.OrderPlaced` **v1**.
 */
export async function orderRoutes(app: FastifyInstance, options: OrderRoutesOptions): Promise<void> {
  const { store, endpoint, operations, inventory } = options;

  /** Prices `requested` lines (one line per product), or says which problem to answer. */
  const price = async (requested: readonly { sku: string; quantity: number }[]): Promise<{ lines: OrderLine[] } | { problem: [number, string, string] }> => {
    const catalog = await inventory.catalog();
    if (!catalog) {
      return {
        problem: [503, ShopProblems.CATALOG_UNAVAILABLE, 'Inventory has not answered since the gateway started, so there are no prices yet; try again shortly'],
      };
    }
    const bySku = new Map<string, ProductView>(catalog.products.map((product) => [product.sku, product]));
    const merged = new Map<string, OrderLine>();
    for (const line of requested) {
      const product = bySku.get(line.sku);
      if (!product) return { problem: [400, ShopProblems.INVALID_ORDER, `No product ${JSON.stringify(line.sku)} in the catalog`] };
      const quantity = (merged.get(line.sku)?.quantity ?? 0) + line.quantity;
      if (quantity > 99) return { problem: [400, ShopProblems.INVALID_ORDER, `At most 99 of ${line.sku} per order`] };
      merged.set(line.sku, { sku: line.sku, quantity, unitPriceCents: product.priceCents });
    }
    return { lines: [...merged.values()] };
  };

  versionedRoute(app, {
    method: 'POST',
    url: '/orders',
    versions: {
      1: {
        deprecated: { since: '2026-01-01T00:00:00Z', sunset: '2027-07-01T00:00:00Z' },
        schema: { body: v1Body },
        handler: async (request, reply) => {
          const body = request.body as PlaceOrderV1;
          const priced = await price([{ sku: body.sku, quantity: body.quantity }]);
          if ('problem' in priced) return sendProblem(reply, ...priced.problem);
          const line = priced.lines[0] as OrderLine;
          const orderId = uuidv7();
          await startOperation(
            operations.placeOrderV1,
            { orderId, email: body.email, sku: line.sku, quantity: line.quantity, unitPriceCents: line.unitPriceCents },
            { store, endpoint, operationId: orderId },
          );
          return reply.accepted(orderId, {
            orderId,
            apiVersion: 1,
            totalCents: line.quantity * line.unitPriceCents,
            traceId: currentTraceId(),
          } satisfies Partial<OrderAccepted>);
        },
      },
      2: {
        schema: { body: v2Body },
        handler: async (request, reply) => {
          const body = request.body as PlaceOrderV2;
          const priced = await price(body.lines);
          if ('problem' in priced) return sendProblem(reply, ...priced.problem);
          const orderId = uuidv7();
          const totalCents = priced.lines.reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0);
          await startOperation(
            operations.placeOrder,
            { orderId, customer: body.customer, lines: priced.lines, totalCents },
            { store, endpoint, operationId: orderId },
          );
          return reply.accepted(orderId, { orderId, apiVersion: 2, totalCents, traceId: currentTraceId() } satisfies Partial<OrderAccepted>);
        },
      },
    },
  });
}
