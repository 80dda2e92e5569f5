import type { GraphLayout, GraphNode } from './api.js';
import { usePoll } from './use-poll.js';

function shape(node: GraphNode) {
  const { x, y, width: w, height: h } = node;
  const dash = node.orphan ? '5 3' : undefined;
  if (node.kind === 'endpoint') return <rect x={x} y={y} width={w} height={h} rx={6} class="n-endpoint" />;
  if (node.kind === 'event') {
    const d = 12;
    const points = `${x + d},${y} ${x + w - d},${y} ${x + w},${y + h / 2} ${x + w - d},${y + h} ${x + d},${y + h} ${x},${y + h / 2}`;
    return <polygon points={points} class="n-event" stroke-dasharray={dash} />;
  }
  const s = 10;
  return <polygon points={`${x + s},${y} ${x + w},${y} ${x + w - s},${y + h} ${x},${y + h}`} class="n-command" stroke-dasharray={dash} />;
}

/** The choreography graph of the system (`defineSystem`), as SVG: endpoints as boxes, events as hexagons, commands as parallelograms. */
export function GraphView() {
  const { data, error } = usePoll<{ known: boolean; layout?: GraphLayout }>('/api/graph');
  if (error) return <p class="error">{error}</p>;
  if (!data) return <p>Loading…</p>;
  if (!data.known || !data.layout)
    return <p class="warn">No system is known: start the console with --config mailroom.config.ts (a defineSystem) to see the choreography.</p>;
  const { layout } = data;
  const byId = new Map(layout.nodes.map((n) => [n.id, n]));
  return (
    <section>
      <h2>Choreography</h2>
      <p class="hint">Who publishes or sends each message type, and who consumes it (the data of `mailroom graph`).</p>
      <div class="graph">
        <svg
          width={layout.width}
          height={layout.height}
          viewBox={`0 0 ${layout.width} ${layout.height}`}
          data-testid="graph"
          role="img"
          aria-label="The choreography graph"
        >
          <defs>
            <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
              <path d="M 0 0 L 10 5 L 0 10 z" fill="#667" />
            </marker>
          </defs>
          {layout.edges.map((edge) => {
            const a = byId.get(edge.from);
            const b = byId.get(edge.to);
            if (!a || !b) return null;
            const x1 = a.x + a.width;
            const y1 = a.y + a.height / 2;
            const backwards = b.x <= a.x;
            const x2 = backwards ? b.x + b.width : b.x;
            const y2 = b.y + b.height / 2;
            const bend = backwards ? 80 : Math.max(30, (x2 - x1) / 2);
            return (
              <path
                key={`${edge.from}-${edge.to}`}
                d={`M ${x1} ${y1} C ${x1 + bend} ${y1}, ${backwards ? x2 + bend : x2 - bend} ${y2}, ${x2} ${y2}`}
                class="edge"
                marker-end="url(#arrow)"
              />
            );
          })}
          {layout.nodes.map((node) => (
            <g key={node.id} data-kind={node.kind}>
              {shape(node)}
              <text x={node.x + node.width / 2} y={node.y + node.height / 2 + 4} text-anchor="middle">
                {node.label.length > 28 ? `${node.label.slice(0, 27)}…` : node.label}
              </text>
            </g>
          ))}
        </svg>
      </div>
    </section>
  );
}
