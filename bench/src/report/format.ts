import type { Comparison } from '../results.js';

/** A number for a table: thousands separated, 3 significant digits below 1000. */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return String(Number(value.toPrecision(3)));
}

/** A ratio as `0.93x`. */
export function formatRatio(ratio: number): string {
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : 'n/a';
}

/** A comparison's baseline for a table: its name, or for a derived one `min(a [group] 5,430, b [group] 7,010)`, each candidate with its median. */
export function baselineText(c: Comparison): string {
  if (!c.baselines) return c.baseline;
  return `min(${c.baselines.map((b) => `${b.contender} [${b.group}] ${formatValue(b.median)}`).join(', ')})`;
}

/** Escapes text for an XML/SVG text node or attribute. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string);
}
