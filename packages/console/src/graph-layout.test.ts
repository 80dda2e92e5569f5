import { defineCommand, defineEvent, defineSystem } from '@mailroom/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { layoutGraph } from './graph-layout.js';

const Placed = defineEvent('g.OrderPlaced', { version: 2, schema: z.object({}) });
const Paid = defineEvent('g.PaymentCaptured', { version: 1, schema: z.object({}) });
const Ship = defineCommand('g.ShipOrder', { version: 1, owner: 'shipping', schema: z.object({}) });
const Unused = defineEvent('g.Unused', { version: 1, schema: z.object({}) });

const system = defineSystem({
  contracts: [Unused],
  endpoints: [
    { name: 'orders', publishes: [Placed], sends: [Ship], consumes: [Paid] },
    { name: 'billing', consumes: [Placed], publishes: [Paid] },
    { name: 'shipping', consumes: [Ship] },
  ],
});

describe('layoutGraph', () => {
  it('places each message right of its producers and each consumer right of what it consumes, with one edge per flow', () => {
    const layout = layoutGraph(system);
    const at = (label: string) => layout.nodes.find((node) => node.label === label) as { x: number; kind: string; orphan: boolean };
    expect(at('g.OrderPlaced v2').x).toBeGreaterThan(at('orders').x);
    expect(at('billing').x).toBeGreaterThan(at('g.OrderPlaced v2').x);
    expect(at('g.PaymentCaptured v1').x).toBeGreaterThan(at('billing').x);
    expect(at('shipping').x).toBeGreaterThan(at('g.ShipOrder v1').x);
    expect(at('g.ShipOrder v1').kind).toBe('command');
    expect(at('g.Unused v1').orphan).toBe(true);
    expect(at('g.OrderPlaced v2').orphan).toBe(false);
    // orders -> Placed, Placed -> billing, orders -> Ship, Ship -> shipping, billing -> Paid, Paid -> orders
    expect(layout.edges).toHaveLength(6);
    expect(layout.edges.filter((edge) => edge.label === 'sends')).toHaveLength(1);
    for (const node of layout.nodes) {
      expect(node.x + node.width).toBeLessThanOrEqual(layout.width);
      expect(node.y + node.height).toBeLessThanOrEqual(layout.height);
    }
  });

  it('is deterministic', () => {
    expect(layoutGraph(system)).toEqual(layoutGraph(system));
  });
});
