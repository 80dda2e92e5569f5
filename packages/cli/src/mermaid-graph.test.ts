import { defineCommand, defineEvent, defineSystem } from '@mailroom/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { mermaidGraph } from './mermaid-graph.js';

describe('mermaidGraph', () => {
  it('draws producers, messages and consumers, and marks messages nobody produces or consumes', () => {
    const Placed = defineEvent('mg.Placed', { version: 3, schema: z.object({}) });
    const Audit = defineEvent('mg.Audited', { version: 1, schema: z.object({}) });
    const Ship = defineCommand('mg.Ship', { version: 1, owner: 'shipping', schema: z.object({}) });
    const system = defineSystem({
      endpoints: [
        { name: 'orders', publishes: [Placed, Audit], sends: [Ship] },
        { name: 'billing', consumes: [Placed] },
        { name: 'shipping', consumes: [Placed] },
      ],
    });
    expect(mermaidGraph(system).split('\n')).toEqual([
      'flowchart LR',
      '  e0["orders"]:::endpoint',
      '  e1["billing"]:::endpoint',
      '  e2["shipping"]:::endpoint',
      '  m0{{"mg.Audited v1"}}:::eventOrphan',
      '  e0 -->|publishes| m0',
      '  m1{{"mg.Placed v3"}}:::event',
      '  e0 -->|publishes| m1',
      '  m1 --> e1',
      '  m1 --> e2',
      '  m2[/"mg.Ship v1"/]:::commandOrphan',
      '  e0 -->|sends| m2',
      '  %% mg.Audited: no endpoint consumes it',
      '  %% mg.Ship: no endpoint consumes it',
      '  classDef endpoint fill:#eef,stroke:#447',
      '  classDef event fill:#efe,stroke:#474',
      '  classDef command fill:#fee,stroke:#744',
      '  classDef eventOrphan fill:#efe,stroke:#474,stroke-dasharray: 4 3',
      '  classDef commandOrphan fill:#fee,stroke:#744,stroke-dasharray: 4 3',
      '',
    ]);
  });
});
