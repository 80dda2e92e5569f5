import type { Logger } from '@mailroom/core';
import { type BreakerState, createHttpClient, type HttpClient } from '@mailroom/http';
import type { ProductView, QuoteView } from '../inventory-api.js';
import type { CatalogResponse } from './api-types.js';

/** The gateway's side of inventory's HTTP API: the resilient client and the last catalog it saw. */
export interface InventoryClient {
  readonly http: HttpClient;
  /** The breaker's state now. */
  readonly breaker: BreakerState;
  /** The catalog: live, or the last copy when inventory cannot answer; undefined when there never was one. */
  catalog(): Promise<CatalogResponse | undefined>;
  /** A quote over HTTP (rejects with an `HttpError` when the call fails; the breaker sees it). */
  quote(sku: string, quantity: number): Promise<QuoteView>;
}

/** Options of {@link createInventoryClient}. */
export interface InventoryClientOptions {
  baseUrl: string;
  /** How long the breaker stays open before one probe call. */
  halfOpenAfterMs: number;
  logger: Logger;
}

/**
 * Inventory's HTTP API behind the resilient client: 1.5 s timeout per attempt, one retry, a
 * breaker that opens after 3 failed attempts in a row, a bulkhead of 16 calls (the client logs breaker changes).
 */
export function createInventoryClient(options: InventoryClientOptions): InventoryClient {
  const http = createHttpClient({
    name: 'inventory',
    baseUrl: options.baseUrl,
    timeoutMs: 1500,
    retry: { retries: 1, initialDelayMs: 50, maxDelayMs: 200 },
    breaker: { consecutiveFailures: 3, halfOpenAfterMs: options.halfOpenAfterMs },
    bulkhead: { limit: 16, queue: 64 },
    logger: options.logger,
  });
  let cached: { products: ProductView[]; fetchedAt: string } | undefined;
  return {
    http,
    get breaker() {
      return http.breakerState;
    },
    async catalog() {
      try {
        const products = await http.json<ProductView[]>({ path: '/v1/products' });
        cached = { products, fetchedAt: new Date().toISOString() };
        return { ...cached, source: 'live', breaker: http.breakerState };
      } catch (error) {
        options.logger.debug({ err: error }, 'catalog unavailable; serving the cached copy');
        return cached && { ...cached, source: 'cached', breaker: http.breakerState };
      }
    },
    quote: (sku, quantity) => http.json<QuoteView>({ path: `/v1/products/${encodeURIComponent(sku)}/quote`, query: { quantity } }),
  };
}
