import type { System } from '@mailroom/core';

/** A box of the choreography graph. */
export interface GraphNode {
  readonly id: string;
  readonly label: string;
  readonly kind: 'endpoint' | 'event' | 'command';
  /** A message nobody produces or nobody consumes. */
  readonly orphan: boolean;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** An arrow: producer → message (`publishes` / `sends`) or message → consumer. */
export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly label: string | undefined;
}

/** The laid-out choreography graph the UI draws as SVG. */
export interface GraphLayout {
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

const COLUMN = 230;
const ROW = 64;
const NODE_W = 190;
const NODE_H = 40;
const MARGIN = 20;

/**
 * Lays out the choreography of a system, from the same data `mailroom graph` draws as Mermaid
 * (each contract with `system.producersOf` and `system.consumersOf`): endpoints and messages in
 * columns from left to right, each message one column right of its furthest producer, each
 * endpoint one column right of the furthest message it consumes (cycles are cut after as many
 * rounds as there are nodes). Deterministic.
 */
export function layoutGraph(system: System): GraphLayout {
  const endpointId = new Map(system.endpoints.map((endpoint, i) => [endpoint.name, `e${i}`]));
  const flows = system.contracts.map((contract, i) => ({
    id: `m${i}`,
    contract,
    producers: system.producersOf(contract.type),
    consumers: system.consumersOf(contract.type),
  }));
  const rank = new Map<string, number>();
  for (const endpoint of system.endpoints) rank.set(endpointId.get(endpoint.name) as string, 0);
  for (const flow of flows) rank.set(flow.id, 1);
  const rounds = system.endpoints.length + flows.length;
  for (let round = 0; round < rounds; round++) {
    let changed = false;
    const raise = (id: string, value: number) => {
      if (value > (rank.get(id) ?? 0) && value <= rounds) {
        rank.set(id, value);
        changed = true;
      }
    };
    for (const flow of flows) {
      for (const producer of flow.producers) raise(flow.id, (rank.get(endpointId.get(producer) as string) ?? 0) + 1);
      for (const consumer of flow.consumers) {
        if (!flow.producers.includes(consumer)) raise(endpointId.get(consumer) as string, (rank.get(flow.id) ?? 0) + 1);
      }
    }
    if (!changed) break;
  }
  const columns = new Map<number, string[]>();
  const labels = new Map<string, { label: string; kind: GraphNode['kind']; orphan: boolean }>();
  for (const endpoint of system.endpoints) labels.set(endpointId.get(endpoint.name) as string, { label: endpoint.name, kind: 'endpoint', orphan: false });
  for (const flow of flows) {
    labels.set(flow.id, {
      label: `${flow.contract.type} v${flow.contract.version}`,
      kind: flow.contract.kind,
      orphan: flow.producers.length === 0 || flow.consumers.length === 0,
    });
  }
  for (const [id, r] of rank) columns.set(r, [...(columns.get(r) ?? []), id]);
  const nodes: GraphNode[] = [];
  let maxRows = 0;
  const ordered = [...columns.keys()].sort((a, b) => a - b);
  ordered.forEach((r, column) => {
    const ids = (columns.get(r) ?? []).sort((a, b) => (labels.get(a)?.label ?? '').localeCompare(labels.get(b)?.label ?? ''));
    maxRows = Math.max(maxRows, ids.length);
    ids.forEach((id, row) => {
      const info = labels.get(id) as { label: string; kind: GraphNode['kind']; orphan: boolean };
      nodes.push({ id, ...info, x: MARGIN + column * COLUMN, y: MARGIN + row * ROW, width: NODE_W, height: NODE_H });
    });
  });
  const edges: GraphEdge[] = [];
  for (const flow of flows) {
    for (const producer of flow.producers)
      edges.push({ from: endpointId.get(producer) as string, to: flow.id, label: flow.contract.kind === 'event' ? 'publishes' : 'sends' });
    for (const consumer of flow.consumers) edges.push({ from: flow.id, to: endpointId.get(consumer) as string, label: undefined });
  }
  return {
    width: MARGIN * 2 + Math.max(1, ordered.length) * COLUMN - (COLUMN - NODE_W),
    height: MARGIN * 2 + Math.max(1, maxRows) * ROW - (ROW - NODE_H),
    nodes,
    edges,
  };
}
