/** Formats an amount of cents as dollars: `1450` -> `$14.50`, `145000` -> `$1,450.00`. */
export function formatCents(cents: number): string {
  return `$${(cents / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}
