/**
 * Inventory's answers as the gateway and the UI use them: the gateway makes them from the catalog
 * RPC's messages (`mailroom.shop.catalog.v2`), inventory from its tables for the queued quote.
 */

/** A product with its current price and stock: `CatalogService.ListProducts`. */
export interface ProductView {
  readonly sku: string;
  readonly name: string;
  readonly description: string;
  readonly emoji: string;
  readonly priceCents: number;
  readonly stock: number;
}

/** A price and stock quote for a quantity: one line of `CatalogService.GetQuote`, or `QuoteReady` from the queue. */
export interface QuoteView {
  readonly sku: string;
  readonly quantity: number;
  readonly name: string;
  readonly unitPriceCents: number;
  readonly inStock: number;
  readonly available: boolean;
}
