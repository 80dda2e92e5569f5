import { useState } from 'preact/hooks';
import type { CatalogResponse, OrderAccepted, ProductView } from '../../../src/gateway/api-types.js';
import { formatCents } from '../../../src/money.js';
import { sendJson } from '../api.js';
import type { PlacedOrder } from '../use-orders.js';
import { ProductIcon } from './icons.js';

interface Props {
  catalog: CatalogResponse | undefined;
  catalogError: Error | undefined;
  onPlaced(order: PlacedOrder): void;
}

function Product({ product, quantity, onAdd }: { product: ProductView; quantity: number; onAdd(): void }) {
  const soldOut = product.stock === 0;
  return (
    <button
      type="button"
      class={`product${quantity > 0 ? ' selected' : ''}`}
      data-testid={`product-${product.sku}`}
      onClick={onAdd}
      title={product.description}
    >
      <ProductIcon sku={product.sku} />
      <span class="name">{product.name}</span>
      <span class="price">{formatCents(product.priceCents)}</span>
      <span class={`stock${soldOut ? ' out' : product.stock <= 5 ? ' low' : ''}`}>{soldOut ? 'sold out' : `${product.stock} in stock`}</span>
      {quantity > 0 && <span class="badge count">{quantity}</span>}
    </button>
  );
}

/** The catalog as clickable cards, the cart, the customer and the API version; places the order (202 Accepted). */
export function OrderForm({ catalog, catalogError, onPlaced }: Props) {
  const [cart, setCart] = useState<Record<string, number>>({});
  const [name, setName] = useState('Ada Lovelace');
  const [email, setEmail] = useState('ada@example.com');
  const [apiVersion, setApiVersion] = useState<1 | 2>(2);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const products = catalog?.products ?? [];
  const bySku = new Map(products.map((p) => [p.sku, p]));
  const lines = Object.entries(cart)
    .filter(([, quantity]) => quantity > 0)
    .map(([sku, quantity]) => ({ sku, quantity }));
  const sent = apiVersion === 1 ? lines.slice(0, 1) : lines;
  const total = sent.reduce((sum, line) => sum + line.quantity * (bySku.get(line.sku)?.priceCents ?? 0), 0);

  const add = (sku: string) => setCart((c) => ({ ...c, [sku]: Math.min(99, (c[sku] ?? 0) + 1) }));
  const place = async () => {
    if (sent.length === 0) return;
    setBusy(true);
    setError(undefined);
    try {
      const body =
        apiVersion === 2
          ? { customer: { name, email }, lines: sent }
          : { email, sku: (sent[0] as { sku: string }).sku, quantity: (sent[0] as { quantity: number }).quantity };
      const { body: accepted, headers } = await sendJson<OrderAccepted>('POST', `/api/v${apiVersion}/orders`, body);
      onPlaced({
        id: accepted.orderId,
        href: headers.get('location') ?? accepted.href,
        apiVersion,
        totalCents: accepted.totalCents,
        summary: sent.map((line) => `${line.quantity} × ${bySku.get(line.sku)?.name ?? line.sku}`).join(', '),
        placedAt: new Date().toISOString(),
        traceId: accepted.traceId,
      });
      setCart({});
    } catch (reason) {
      setError((reason as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card">
      <div class="card-head">
        <h2>Place an order</h2>
        {catalog && (
          <span class={`source ${catalog.source}`} data-testid="catalog-source">
            {catalog.source === 'live'
              ? 'prices live from inventory (gRPC)'
              : `inventory unreachable: prices as of ${new Date(catalog.fetchedAt).toLocaleTimeString()} (breaker ${catalog.breaker})`}
          </span>
        )}
      </div>
      {!catalog && catalogError && <p class="notice">{catalogError.message}</p>}
      <div class="products">
        {products.map((product) => (
          <Product key={product.sku} product={product} quantity={cart[product.sku] ?? 0} onAdd={() => add(product.sku)} />
        ))}
      </div>
      <div class="checkout">
        <label>
          <span>Name</span>
          <input value={name} onInput={(e) => setName(e.currentTarget.value)} disabled={apiVersion === 1} />
        </label>
        <label>
          <span>E-mail</span>
          <input type="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </label>
        <div class="segmented" role="radiogroup" aria-label="API version">
          {([2, 1] as const).map((v) => (
            <label key={v} data-testid={`api-v${v}`}>
              <input type="radio" name="api-version" checked={apiVersion === v} onChange={() => setApiVersion(v)} />
              {v === 2 ? 'API v2' : 'API v1 (legacy)'}
            </label>
          ))}
        </div>
      </div>
      <div class="cart">
        <div class="lines">
          {sent.length === 0 ? (
            <span class="muted">Click products to add them.</span>
          ) : (
            sent.map((line) => (
              <span class="line" key={line.sku}>
                {line.quantity} × {bySku.get(line.sku)?.name ?? line.sku}
                <button type="button" class="link" aria-label={`remove ${line.sku}`} onClick={() => setCart((c) => ({ ...c, [line.sku]: 0 }))}>
                  ×
                </button>
              </span>
            ))
          )}
          {apiVersion === 1 && lines.length > 1 && <span class="muted"> v1 takes one product: the first is sent.</span>}
        </div>
        <button type="button" class="primary" data-testid="place-order" disabled={busy || sent.length === 0} onClick={place}>
          {busy ? 'Placing…' : `Place order · ${formatCents(total)}`}
        </button>
      </div>
      <p class="hint">
        {apiVersion === 2 ? (
          <>
            <code>POST /api/v2/orders</code> publishes <code>shop.OrderPlaced</code> v2 and answers <code>202 Accepted</code> with the operation to follow.
          </>
        ) : (
          <>
            <code>POST /api/v1/orders</code> (deprecated) still publishes <code>shop.OrderPlaced</code> <b>v1</b>; every consumer upcasts it to v2.
          </>
        )}
      </p>
      {error && (
        <p class="notice error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
