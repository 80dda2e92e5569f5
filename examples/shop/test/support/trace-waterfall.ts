import type { ReceivedSpan } from './otlp-receiver.js';

const KINDS: Record<number, string> = { 1: 'internal', 2: 'server', 3: 'client', 4: 'producer', 5: 'consumer' };
const COLORS = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#dc2626', '#0891b2', '#4b5563'];

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
}

/**
 * An HTML page drawing one trace as a waterfall, from the spans an OTLP receiver got: one row per
 * span, nested under its parent, a bar from its start to its end on the trace's time axis, coloured
 * by service, with its span events as ticks. What a tracing UI shows, drawn from real spans.
 */
export function renderWaterfall(spans: readonly ReceivedSpan[]): string {
  const start = spans.reduce((min, span) => (span.startNs < min ? span.startNs : min), spans[0]?.startNs ?? 0n);
  const end = spans.reduce((max, span) => (span.endNs > max ? span.endNs : max), start + 1n);
  const total = Number(end - start);
  const ids = new Set(spans.map((span) => span.spanId));
  const children = new Map<string | undefined, ReceivedSpan[]>();
  for (const span of spans) {
    const parent = span.parentSpanId !== undefined && ids.has(span.parentSpanId) ? span.parentSpanId : undefined;
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const services = [...new Set(spans.map((span) => span.service))];
  const color = (service: string) => COLORS[services.indexOf(service) % COLORS.length] as string;
  const rows: string[] = [];
  const walk = (parent: string | undefined, depth: number) => {
    for (const span of (children.get(parent) ?? []).sort((a, b) => Number(a.startNs - b.startNs))) {
      const left = (Number(span.startNs - start) / total) * 100;
      const width = Math.max(0.15, (Number(span.endNs - span.startNs) / total) * 100);
      const ms = Number(span.endNs - span.startNs) / 1e6;
      const ticks = span.events
        .filter((event) => event.name.startsWith('mailroom.'))
        .map(
          (event) =>
            `<span class="event" title="${escapeHtml(event.name)} ${escapeHtml(String(event.attributes['error.type'] ?? ''))}">${escapeHtml(event.name.replace('mailroom.', ''))}</span>`,
        )
        .join('');
      rows.push(
        `<div class="row"><div class="label" style="padding-left:${depth * 14}px"><b style="color:${color(span.service)}">${escapeHtml(span.service)}</b> ${escapeHtml(span.name)} <i>${KINDS[span.kind] ?? ''}</i>${ticks}</div>` +
          `<div class="lane"><div class="bar${span.status === 2 ? ' error' : ''}" style="left:${left}%;width:${width}%;background:${color(span.service)}"></div><span class="ms" style="left:${Math.min(left + width, 92)}%">${ms.toFixed(1)} ms</span></div></div>`,
      );
      walk(span.spanId, depth + 1);
    }
  };
  walk(undefined, 0);
  const traceId = spans[0]?.traceId ?? '';
  return `<!doctype html><html><head><meta charset="utf-8"><title>trace ${traceId}</title><style>
body{font:13px system-ui,sans-serif;margin:16px;color:#111}
h1{font-size:16px;margin:0 0 4px}.meta{color:#555;margin-bottom:12px}
.row{display:flex;align-items:center;border-bottom:1px solid #eee;height:22px}
.label{width:520px;flex:none;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.label i{color:#888;font-style:normal;font-size:11px;margin-left:4px}
.lane{position:relative;flex:1;height:14px;background:#fafafa}
.bar{position:absolute;top:2px;height:10px;border-radius:2px;opacity:.85}.bar.error{outline:2px solid #dc2626}
.ms{position:absolute;top:0;font-size:10px;color:#555;padding-left:4px}
.event{background:#fee2e2;color:#991b1b;border-radius:3px;padding:0 4px;margin-left:6px;font-size:11px}
</style></head><body><h1>Trace ${escapeHtml(traceId)}</h1>
<div class="meta">${spans.length} spans from ${services.length} services (${services.map((s) => `<b style="color:${color(s)}">${escapeHtml(s)}</b>`).join(', ')}), ${(total / 1e6).toFixed(0)} ms, exported over OTLP/HTTP by the shop's processes</div>
${rows.join('\n')}</body></html>`;
}
