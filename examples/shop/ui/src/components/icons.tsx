import type { JSX } from 'preact';

/** Line drawings of the shop's products (24×24, drawn with the current colour), so the page needs no emoji font. */
const PRODUCT_PATHS: Record<string, string[]> = {
  mug: ['M4 8h11v8a4 4 0 0 1-4 4H8a4 4 0 0 1-4-4z', 'M15 10h2a3 3 0 0 1 0 6h-2', 'M8 2.5v3', 'M11.5 2.5v3'],
  tee: ['M8.5 3 3.5 5.5 2 10l3.2 1.2L6 10v11h12V10l.8 1.2L22 10l-1.5-4.5L15.5 3c-.4 1.6-1.8 2.6-3.5 2.6S8.9 4.6 8.5 3z'],
  stickers: ['M3.5 12.5V4.5a1 1 0 0 1 1-1h8l8 8-9 9z', 'M8 8h.01'],
  hoodie: ['M8 3.5 3.5 6.5 2 12l3 1v8h14v-8l3-1-1.5-5.5L16 3.5', 'M8 3.5c0 2.6 1.8 4.5 4 4.5s4-1.9 4-4.5', 'M9 16.5h6', 'M11 8v3', 'M13 8v3'],
  typewriter: [
    'M3 9h18a1 1 0 0 1 1 1v9a1 1 0 0 1-1 1H3a1 1 0 0 1-1-1v-9a1 1 0 0 1 1-1z',
    'M7 9V4h10v5',
    'M6 13h.01',
    'M10 13h.01',
    'M14 13h.01',
    'M18 13h.01',
    'M8 16.5h8',
  ],
  stamp: ['M5 3h14v18H5z', 'M8 15l2.5-3.5 2 2.5 1.5-2 2 3', 'M8 6.5h8'],
  poison: [
    'M12 7.5c-2.5-1.8-7-1.2-7 4 0 4.2 3.2 9.6 7 8.5 3.8 1.1 7-4.3 7-8.5 0-5.2-4.5-5.8-7-4z',
    'M12 7.5c0-2.2 1.2-4 3.5-4.5',
    'M9.5 13.5l1.5 1.5m0-1.5-1.5 1.5',
    'M13 13.5l1.5 1.5m0-1.5-1.5 1.5',
  ],
};

const TINTS: Record<string, string> = {
  mug: '#a16207',
  tee: '#2563eb',
  stickers: '#db2777',
  hoodie: '#7c3aed',
  typewriter: '#475569',
  stamp: '#0891b2',
  poison: '#dc2626',
};

/** The drawing of a product, on a tinted tile; a generic box for SKUs it does not know. */
export function ProductIcon({ sku, size = 40 }: { sku: string; size?: number }) {
  const paths = PRODUCT_PATHS[sku] ?? ['M3 7l9-4 9 4v10l-9 4-9-4z', 'M3 7l9 4 9-4', 'M12 11v10'];
  const tint = TINTS[sku] ?? '#5b5bd6';
  return (
    <span class="product-icon" style={{ color: tint, width: `${size}px`, height: `${size}px` }} aria-hidden="true">
      <svg
        aria-hidden="true"
        viewBox="0 0 24 24"
        width={size * 0.6}
        height={size * 0.6}
        fill="none"
        stroke="currentColor"
        stroke-width="1.8"
        stroke-linecap="round"
        stroke-linejoin="round"
      >
        {paths.map((d) => (
          <path key={d} d={d} />
        ))}
      </svg>
    </span>
  );
}

/** The shop's logo: an envelope. */
export function Logo(props: JSX.SVGAttributes<SVGSVGElement>) {
  return (
    <svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" {...props}>
      <path d="M3 6.5A1.5 1.5 0 0 1 4.5 5h15A1.5 1.5 0 0 1 21 6.5v11a1.5 1.5 0 0 1-1.5 1.5h-15A1.5 1.5 0 0 1 3 17.5z" />
      <path d="m3.5 6 8.5 6.5L20.5 6" />
    </svg>
  );
}
