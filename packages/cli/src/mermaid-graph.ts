import type { System } from '@mailroom/core';

/** Who produces and who consumes one message type. */
export interface MessageFlow {
  readonly type: string;
  readonly kind: 'event' | 'command';
  readonly version: number;
  readonly owner: string | undefined;
  readonly producers: readonly string[];
  readonly consumers: readonly string[];
}

/** Every message type of a system with its producers and consumers, sorted by type. */
export function messageFlows(system: System): MessageFlow[] {
  return system.contracts.map((contract) => ({
    type: contract.type,
    kind: contract.kind,
    version: contract.version,
    owner: contract.owner,
    producers: system.producersOf(contract.type),
    consumers: system.consumersOf(contract.type),
  }));
}

function label(text: string): string {
  return `"${text.replace(/"/g, '#quot;')}"`;
}

/**
 * A Mermaid flowchart of the choreography: endpoints as boxes, events as hexagons, commands as
 * parallelograms, an arrow from each producer to the message and from the message to each
 * consumer. Messages nobody produces or nobody consumes are drawn dashed and listed in comments.
 * Deterministic; node ids are generated, so any type or endpoint name is safe.
 */
export function mermaidGraph(system: System): string {
  const lines = ['flowchart LR'];
  const endpointIds = new Map(system.endpoints.map((endpoint, i) => [endpoint.name, `e${i}`]));
  for (const endpoint of system.endpoints) lines.push(`  ${endpointIds.get(endpoint.name)}[${label(endpoint.name)}]:::endpoint`);
  const flows = messageFlows(system);
  const orphans: string[] = [];
  flows.forEach((flow, i) => {
    const id = `m${i}`;
    const text = label(`${flow.type} v${flow.version}`);
    const shape = flow.kind === 'event' ? `{{${text}}}` : `[/${text}/]`;
    const orphan = flow.producers.length === 0 || flow.consumers.length === 0;
    lines.push(`  ${id}${shape}:::${flow.kind}${orphan ? 'Orphan' : ''}`);
    if (flow.producers.length === 0) orphans.push(`  %% ${flow.type}: no endpoint produces it`);
    if (flow.consumers.length === 0) orphans.push(`  %% ${flow.type}: no endpoint consumes it`);
    for (const producer of flow.producers) lines.push(`  ${endpointIds.get(producer)} -->|${flow.kind === 'event' ? 'publishes' : 'sends'}| ${id}`);
    for (const consumer of flow.consumers) lines.push(`  ${id} --> ${endpointIds.get(consumer)}`);
  });
  lines.push(...orphans, '  classDef endpoint fill:#eef,stroke:#447', '  classDef event fill:#efe,stroke:#474', '  classDef command fill:#fee,stroke:#744');
  if (orphans.length > 0) {
    lines.push('  classDef eventOrphan fill:#efe,stroke:#474,stroke-dasharray: 4 3', '  classDef commandOrphan fill:#fee,stroke:#744,stroke-dasharray: 4 3');
  }
  return `${lines.join('\n')}\n`;
}
