/** The inventory HTTP API's answers, shared by inventory (which serves them) and the gateway and UI (which read them). */

/** A product with its current price and stock: `GET /v1/products`. */
export interface ProductView {
  readonly sku: string;
  readonly name: string;
  readonly description: string;
  readonly emoji: string;
  readonly priceCents: number;
  readonly stock: number;
}

/** A price and stock quote for a quantity: `GET /v1/products/:sku/quote?quantity=n`, or `QuoteReady` from the queue. */
export interface QuoteView {
  readonly sku: string;
  readonly quantity: number;
  readonly name: string;
  readonly unitPriceCents: number;
  readonly inStock: number;
  readonly available: boolean;
}
