import type { Comparison, ScenarioResult } from '../results.js';
import { escapeXml, formatRatio } from './format.js';

const ROW = 22;
const LABEL_WIDTH = 420;
const PLOT_WIDTH = 420;
const MIN_RATIO = 0.125;
const MAX_RATIO = 16;
const TICKS = [0.125, 0.25, 0.5, 1, 2, 4, 8, 16];

function x(ratio: number): number {
  const clamped = Math.min(MAX_RATIO, Math.max(MIN_RATIO, ratio));
  return LABEL_WIDTH + (Math.log2(clamped / MIN_RATIO) / Math.log2(MAX_RATIO / MIN_RATIO)) * PLOT_WIDTH;
}

function label(result: ScenarioResult, c: Comparison): string {
  const who =
    c.contender === 'mailroom' || c.contender.startsWith('mailroom client')
      ? ''
      : ` (${c.contender.replace(/^mailroom, /, '').replace(/^insert \+ outbox \(mailroom\)$/, 'outbox')})`;
  return `${result.scenario} ${c.group}: ${c.metric}${who}`;
}

/**
 * An SVG bar chart of every comparison that has a target: the ratio contender / baseline on a
 * log scale, the target as a tick on the bar's row, green when met and red when missed.
 * Latency rows are better when short, throughput rows when long; the target tick says which.
 */
export function renderChartSvg(results: readonly ScenarioResult[]): string {
  const rows = results.flatMap((result) => result.comparisons.filter((c) => c.target).map((c) => ({ result, c })));
  const height = 60 + rows.length * ROW + 40;
  const width = LABEL_WIDTH + PLOT_WIDTH + 140;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">Mailroom / baseline (log scale): green = target met, red = missed, black tick = target</text>`,
  ];
  for (const tick of TICKS) {
    const tx = x(tick);
    parts.push(`<line x1="${tx}" y1="40" x2="${tx}" y2="${height - 30}" stroke="${tick === 1 ? '#555' : '#ddd'}" stroke-width="${tick === 1 ? 1.5 : 1}"/>`);
    parts.push(`<text x="${tx}" y="${height - 14}" text-anchor="middle" fill="#555">${tick}x</text>`);
  }
  rows.forEach(({ result, c }, i) => {
    const y = 44 + i * ROW;
    const target = c.target as NonNullable<Comparison['target']>;
    const color = c.met ? '#2e7d32' : '#c62828';
    const start = x(1);
    const end = x(c.ratio);
    parts.push(`<text x="${LABEL_WIDTH - 8}" y="${y + 14}" text-anchor="end">${escapeXml(label(result, c))}</text>`);
    parts.push(
      `<rect x="${Math.min(start, end)}" y="${y + 3}" width="${Math.max(1, Math.abs(end - start))}" height="${ROW - 8}" fill="${color}" opacity="0.85"/>`,
    );
    const tx = x(target.value);
    parts.push(`<line x1="${tx}" y1="${y}" x2="${tx}" y2="${y + ROW - 2}" stroke="#000" stroke-width="2"/>`);
    parts.push(`<text x="${LABEL_WIDTH + PLOT_WIDTH + 8}" y="${y + 14}">${escapeXml(`${formatRatio(c.ratio)} ${target.op} ${target.value}`)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
