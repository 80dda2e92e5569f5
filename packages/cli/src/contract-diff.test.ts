import { type AnyContract, defineCommand, defineEvent, defineSystem, fromVersion, type SystemEndpointDefinition } from '@mailroom/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { diffContracts } from './contract-diff.js';
import { snapshotContracts } from './contracts-lock.js';

const V1 = z.object({ id: z.string(), total: z.number() });
const OrderPlacedV1 = defineEvent('cd.OrderPlaced', { version: 1, schema: V1 });
const OrderPlacedV2 = defineEvent('cd.OrderPlaced', {
  version: 2,
  schema: z.object({ id: z.string(), total: z.object({ amount: z.number() }) }),
  upcast: { 1: fromVersion(V1, (v1) => ({ ...v1, total: { amount: v1.total } })) },
});
const OrderPlacedV2NoUpcaster = defineEvent('cd.OrderPlaced', { version: 2, schema: z.object({ id: z.string(), total: z.object({ amount: z.number() }) }) });
const Ship = defineCommand('cd.Ship', { version: 1, owner: 'shipping', schema: z.object({ id: z.string() }) });

function lockOf(endpoints: SystemEndpointDefinition[], contracts: AnyContract[] = []) {
  return snapshotContracts(defineSystem({ endpoints, contracts }));
}
const kinds = (changes: ReturnType<typeof diffContracts>) =>
  changes.map((c) => `${c.breaking ? '!' : '+'} ${c.type}${c.version ? ` v${c.version}` : ''} ${c.change}`);

describe('diffContracts', () => {
  const released = lockOf([
    { name: 'orders', publishes: [OrderPlacedV1], sends: [Ship] },
    { name: 'billing', consumes: [OrderPlacedV1] },
    { name: 'shipping', consumes: [Ship] },
  ]);

  it('finds no change against itself', () => {
    expect(diffContracts(released, released)).toEqual([]);
  });

  it('accepts a new version with an upcaster, and says who to deploy first', () => {
    const next = lockOf([
      { name: 'orders', publishes: [OrderPlacedV2], sends: [Ship] },
      { name: 'billing', consumes: [OrderPlacedV2] },
      { name: 'shipping', consumes: [Ship] },
    ]);
    const changes = diffContracts(released, next);
    expect(kinds(changes)).toEqual(['+ cd.OrderPlaced v2 version-added']);
    expect(changes[0]?.message).toContain('deploy its consumers (billing) before its producers (orders)');
  });

  it('rejects a new version without an upcaster, and a version going back', () => {
    const next = lockOf([
      { name: 'orders', publishes: [OrderPlacedV2NoUpcaster], sends: [Ship] },
      { name: 'billing', consumes: [OrderPlacedV2NoUpcaster] },
      { name: 'shipping', consumes: [Ship] },
    ]);
    expect(kinds(diffContracts(released, next))).toEqual(['! cd.OrderPlaced v1 version-removed', '+ cd.OrderPlaced v2 version-added']);
    expect(kinds(diffContracts(next, released))).toEqual(['! cd.OrderPlaced version-lowered', '+ cd.OrderPlaced v1 version-added']);
  });

  it('rejects removing a type the lock says is consumed, but not one nobody consumed', () => {
    const withoutShip = lockOf([{ name: 'orders', publishes: [OrderPlacedV1] }, { name: 'billing', consumes: [OrderPlacedV1] }, { name: 'shipping' }]);
    expect(kinds(diffContracts(released, withoutShip))).toEqual(['! cd.Ship type-removed']);
    const unconsumed = lockOf(
      [
        { name: 'orders', publishes: [OrderPlacedV1] },
        { name: 'billing', consumes: [OrderPlacedV1] },
      ],
      [Ship],
    );
    const gone = lockOf([
      { name: 'orders', publishes: [OrderPlacedV1] },
      { name: 'billing', consumes: [OrderPlacedV1] },
    ]);
    expect(kinds(diffContracts(unconsumed, gone))).toEqual(['+ cd.Ship type-removed']);
  });

  it('rejects a type still consumed that nobody produces any more', () => {
    const next = lockOf([
      { name: 'orders', sends: [Ship] },
      { name: 'billing', consumes: [OrderPlacedV1] },
      { name: 'shipping', consumes: [Ship] },
    ]);
    const changes = diffContracts(released, next);
    expect(kinds(changes)).toEqual(['! cd.OrderPlaced no-producer']);
    expect(changes[0]?.message).toBe('no endpoint produces it any more (it was orders) while billing still consumes it');
  });

  it('rejects a changed kind or owner', () => {
    const ShipEvent = defineEvent('cd.Ship', { version: 1, schema: z.object({ id: z.string() }) });
    const ShipElsewhere = defineCommand('cd.Ship', { version: 1, owner: 'warehouse', schema: z.object({ id: z.string() }) });
    const asEvent = lockOf([
      { name: 'orders', publishes: [OrderPlacedV1, ShipEvent] },
      { name: 'billing', consumes: [OrderPlacedV1] },
      { name: 'shipping', consumes: [ShipEvent] },
    ]);
    const moved = lockOf([
      { name: 'orders', publishes: [OrderPlacedV1], sends: [ShipElsewhere] },
      { name: 'billing', consumes: [OrderPlacedV1] },
      { name: 'shipping', consumes: [ShipElsewhere] },
    ]);
    expect(kinds(diffContracts(released, asEvent))).toEqual(['! cd.Ship kind-changed']);
    expect(kinds(diffContracts(released, moved))).toEqual(['! cd.Ship owner-changed']);
  });
});
