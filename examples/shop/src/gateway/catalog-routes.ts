import { Code } from '@connectrpc/connect';
import type { Endpoint, OperationStore } from '@mailroom/core';
import { HttpErrorCodes } from '@mailroom/http';
import { callOrQueue, RpcErrorCodes } from '@mailroom/rpc';
import type { FastifyInstance } from 'fastify';
import { v7 as uuidv7 } from 'uuid';
import { RequestQuote } from '../contracts.js';
import type { shopOperations } from '../operations.js';
import type { QuoteAnswered } from './api-types.js';
import type { InventoryClient } from './inventory-client.js';
import { ShopProblems, sendProblem } from './problems.js';

/** What the catalog and quote routes need. */
export interface CatalogRoutesOptions {
  store: OperationStore;
  endpoint: Endpoint<unknown>;
  operations: ReturnType<typeof shopOperations>;
  inventory: InventoryClient;
}

/**
 * The gateway's synchronous questions to inventory, over RPC (gRPC, `mailroom.shop.catalog.v2`).
 * `GET /products`: the catalog, or the last copy when inventory cannot answer. `POST /quotes`: a
 * price and stock quote through call-or-queue: answered now (200) when inventory answers, else
 * (breaker open, timeout, refused connection) queued as the `shop.RequestQuote` command and
 * followed as an operation (202).
 */
export async function catalogRoutes(app: FastifyInstance, options: CatalogRoutesOptions): Promise<void> {
  const { store, endpoint, operations, inventory } = options;

  app.get('/products', async (_request, reply) => {
    const catalog = await inventory.catalog();
    if (!catalog) return sendProblem(reply, 503, ShopProblems.CATALOG_UNAVAILABLE, 'Inventory has not answered since the gateway started; try again shortly');
    return catalog;
  });

  app.post<{ Body: { sku: string; quantity: number } }>(
    '/quotes',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['sku', 'quantity'],
          properties: { sku: { type: 'string', pattern: '^[a-z0-9-]{1,40}$' }, quantity: { type: 'integer', minimum: 1, maximum: 99 } },
        },
      },
    },
    async (request, reply) => {
      const { sku, quantity } = request.body;
      const result = await callOrQueue({
        call: () => inventory.quote(sku, quantity),
        queue: {
          endpoint,
          command: RequestQuote,
          operationId: uuidv7(),
          data: { sku, quantity },
          // Recorded before the command leaves, so its answer always finds the operation.
          operation: { definition: operations.quote, store },
        },
      });
      if (result.status === 'completed') return { status: 'answered', quote: result.value } satisfies QuoteAnswered;
      if (result.status === 'rejected') {
        const notFound = result.error.rpcCode === Code.NotFound;
        return sendProblem(
          reply,
          notFound ? 404 : 502,
          notFound ? HttpErrorCodes.HTTP_NOT_FOUND : RpcErrorCodes.RPC_STATUS,
          `Inventory refused the quote: ${result.error.message}`,
        );
      }
      return reply.accepted(result.operationId, { reason: result.reason.code, detail: result.reason.message });
    },
  );
}
