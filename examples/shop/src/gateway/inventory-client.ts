import { type Client, createClient } from '@connectrpc/connect';
import type { Logger } from '@mailroom/core';
import type { BreakerState } from '@mailroom/http';
import { createRpcTransport, type RpcTransport } from '@mailroom/rpc';
import { CatalogService, type Money } from '../gen/mailroom/shop/catalog/v2/catalog_pb.js';
import type { ProductView, QuoteView } from '../inventory-api.js';
import type { CatalogResponse } from './api-types.js';

/** The gateway's side of inventory's catalog RPC (v2): the resilient transport, the typed client and the last catalog it saw. */
export interface InventoryClient {
  readonly transport: RpcTransport;
  /** The breaker's state now. */
  readonly breaker: BreakerState;
  /** The catalog: live, or the last copy when inventory cannot answer; undefined when there never was one. */
  catalog(): Promise<CatalogResponse | undefined>;
  /** A quote over RPC (rejects with an `RpcError` when the call fails; the breaker sees it). */
  quote(sku: string, quantity: number): Promise<QuoteView>;
  /** Closes the connection to inventory. */
  close(): void;
}

/** Options of {@link createInventoryClient}. */
export interface InventoryClientOptions {
  baseUrl: string;
  /** How long the breaker stays open before one probe call. */
  halfOpenAfterMs: number;
  logger: Logger;
}

function cents(money: Money | undefined): number {
  return Number(money?.minorUnits ?? 0n);
}

/**
 * Inventory's `mailroom.shop.catalog.v2.CatalogService` over gRPC behind the resilient transport:
 * 1.5 s timeout per attempt, one retry (both methods are `NO_SIDE_EFFECTS`), a breaker that opens
 * after 3 failed attempts in a row, a bulkhead of 16 calls (the transport logs breaker changes).
 */
export function createInventoryClient(options: InventoryClientOptions): InventoryClient {
  const transport = createRpcTransport({
    name: 'inventory',
    baseUrl: options.baseUrl,
    protocol: 'grpc',
    timeoutMs: 1500,
    retry: { retries: 1, initialDelayMs: 50, maxDelayMs: 200 },
    breaker: { consecutiveFailures: 3, halfOpenAfterMs: options.halfOpenAfterMs },
    bulkhead: { limit: 16, queue: 64 },
    logger: options.logger,
  });
  const rpc: Client<typeof CatalogService> = createClient(CatalogService, transport);
  let cached: { products: ProductView[]; fetchedAt: string } | undefined;
  return {
    transport,
    get breaker() {
      return transport.breakerState;
    },
    async catalog() {
      try {
        const { products } = await rpc.listProducts({});
        cached = {
          products: products.map((p) => ({ sku: p.sku, name: p.name, description: p.description, emoji: p.emoji, priceCents: cents(p.price), stock: p.stock })),
          fetchedAt: new Date().toISOString(),
        };
        return { ...cached, source: 'live', breaker: transport.breakerState };
      } catch (error) {
        options.logger.debug({ err: error }, 'catalog unavailable; serving the cached copy');
        return cached && { ...cached, source: 'cached', breaker: transport.breakerState };
      }
    },
    async quote(sku, quantity) {
      const { lines } = await rpc.getQuote({ lines: [{ sku, quantity }] });
      const [line] = lines;
      if (!line) throw new Error(`inventory answered a quote of ${sku} without its line`);
      return {
        sku: line.sku,
        quantity: line.quantity,
        name: line.name,
        unitPriceCents: cents(line.unitPrice),
        inStock: line.inStock,
        available: line.available,
      };
    },
    close: () => transport.close(),
  };
}
