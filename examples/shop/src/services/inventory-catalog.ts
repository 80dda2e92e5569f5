/** A product as inventory seeds it. */
export interface SeedProduct {
  readonly sku: string;
  readonly name: string;
  readonly description: string;
  readonly emoji: string;
  readonly priceCents: number;
  readonly stock: number;
}

/** The SKU whose orders make inventory's handler fail while the poison fault is on. */
export const POISON_SKU = 'poison';

/**
 * The products inventory starts with. Each shows one path of the choreography: most complete, the
 * typewriter is over the card limit (payment declined), the stamp is out of stock (refund), the
 * hoodie runs out after a few orders, and the poisoned apple fails in a handler (dead letter).
 */
export const SEED_PRODUCTS: readonly SeedProduct[] = [
  { sku: 'mug', name: 'Mailroom mug', description: 'Holds coffee, at least once.', emoji: '☕', priceCents: 1200, stock: 500 },
  { sku: 'tee', name: 'Eventually Consistent tee', description: 'It will fit. Eventually.', emoji: '👕', priceCents: 2400, stock: 200 },
  { sku: 'stickers', name: 'Sticker pack', description: 'Outbox, inbox, and a dead letter.', emoji: '🏷️', priceCents: 450, stock: 1000 },
  { sku: 'hoodie', name: 'Outbox hoodie', description: 'Limited edition: 5 made.', emoji: '🧥', priceCents: 4900, stock: 5 },
  { sku: 'typewriter', name: 'Vintage typewriter', description: 'Over the card limit: payment declined.', emoji: '⌨️', priceCents: 145_000, stock: 3 },
  { sku: 'stamp', name: 'Inverted Jenny stamp', description: 'Sold out: paid, then refunded.', emoji: '📮', priceCents: 900, stock: 0 },
  { sku: POISON_SKU, name: 'Poisoned apple', description: 'Crashes the warehouse robot while the fault is on.', emoji: '🍎', priceCents: 100, stock: 1000 },
];
