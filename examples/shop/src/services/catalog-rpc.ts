// Inventory's catalog over RPC: mailroom.shop.catalog.v1 and .v2 served side by side from the same
// tables. The gateway asks v2; v1 stays for clients that have not moved.
import { Code, ConnectError, type ConnectRouter } from '@connectrpc/connect';
import * as v1 from '../gen/mailroom/shop/catalog/v1/catalog_pb.js';
import * as v2 from '../gen/mailroom/shop/catalog/v2/catalog_pb.js';
import type { QuoteView } from '../inventory-api.js';
import type { Sql } from '../runtime/service-database.js';

/** A row of inventory's `products` table. */
export interface ProductRow {
  sku: string;
  name: string;
  description: string;
  emoji: string;
  price_cents: number;
  stock: number;
}

/** The columns of {@link ProductRow}, in order. */
export const PRODUCT_COLUMNS = 'sku, name, description, emoji, price_cents, stock';

/** The shop's one currency. */
export const CURRENCY = 'USD';

const MAX_LINES = 20;

/** A quote of `quantity` of `sku` from the products table, or undefined for an unknown SKU. */
export async function quote(sql: Sql, sku: string, quantity: number): Promise<QuoteView | undefined> {
  const [row] = await sql.all<ProductRow>(`SELECT ${PRODUCT_COLUMNS} FROM products WHERE sku = ?`, [sku]);
  if (!row) return undefined;
  return { sku, quantity, name: row.name, unitPriceCents: row.price_cents, inStock: row.stock, available: row.stock >= quantity };
}

function checkLine(sku: string, quantity: number): void {
  if (!/^[a-z0-9-]{1,40}$/.test(sku)) throw new ConnectError(`sku ${JSON.stringify(sku)} is not a SKU (1-40 of a-z, 0-9, -)`, Code.InvalidArgument);
  if (!Number.isInteger(quantity) || quantity < 1 || quantity > 99) throw new ConnectError(`quantity must be 1 to 99, got ${quantity}`, Code.InvalidArgument);
}

async function quoteOrNotFound(sql: Sql, sku: string, quantity: number): Promise<QuoteView> {
  checkLine(sku, quantity);
  const answer = await quote(sql, sku, quantity);
  if (!answer) throw new ConnectError(`no product ${JSON.stringify(sku)}`, Code.NotFound);
  return answer;
}

const money = (cents: number) => ({ currencyCode: CURRENCY, minorUnits: BigInt(cents) });

/** Registers both versions of `CatalogService` on `router`, reading from `sql` (inventory's read connection). */
export function catalogRpcRoutes(sql: Sql): (router: ConnectRouter) => void {
  const products = () => sql.all<ProductRow>(`SELECT ${PRODUCT_COLUMNS} FROM products ORDER BY position`);
  return (router) => {
    router.service(v1.CatalogService, {
      async listProducts() {
        return {
          products: (await products()).map((row) => ({
            sku: row.sku,
            name: row.name,
            description: row.description,
            emoji: row.emoji,
            priceCents: row.price_cents,
            stock: row.stock,
          })),
        };
      },
      async getQuote(request) {
        return quoteOrNotFound(sql, request.sku, request.quantity);
      },
    });
    router.service(v2.CatalogService, {
      async listProducts() {
        return {
          products: (await products()).map((row) => ({
            sku: row.sku,
            name: row.name,
            description: row.description,
            emoji: row.emoji,
            price: money(row.price_cents),
            stock: row.stock,
          })),
        };
      },
      async getQuote(request) {
        if (request.lines.length === 0 || request.lines.length > MAX_LINES) {
          throw new ConnectError(`a quote needs 1 to ${MAX_LINES} lines, got ${request.lines.length}`, Code.InvalidArgument);
        }
        const lines = [];
        for (const line of request.lines) lines.push(await quoteOrNotFound(sql, line.sku, line.quantity));
        return {
          lines: lines.map((line) => ({
            sku: line.sku,
            quantity: line.quantity,
            name: line.name,
            unitPrice: money(line.unitPriceCents),
            inStock: line.inStock,
            available: line.available,
          })),
          total: money(lines.reduce((sum, line) => sum + line.unitPriceCents * line.quantity, 0)),
          available: lines.every((line) => line.available),
        };
      },
    });
  };
}
