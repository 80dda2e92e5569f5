import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineCommand, defineEvent } from './contract.js';
import { ErrorCodes, isMailroomError } from './errors.js';
import { defineSystem } from './system.js';

const OrderPlaced = defineEvent('sys.OrderPlaced', { version: 1, schema: z.object({ orderId: z.string() }) });
const PaymentCaptured = defineEvent('sys.PaymentCaptured', { version: 1, schema: z.object({ orderId: z.string() }) });
const ShipOrder = defineCommand('sys.ShipOrder', { version: 1, owner: 'shipping', schema: z.object({ orderId: z.string() }) });
const Unused = defineEvent('sys.Archived', { version: 1, schema: z.object({}) });

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return isMailroomError(error) ? error.code : 'not a MailroomError';
  }
  return undefined;
}

describe('defineSystem', () => {
  const system = defineSystem({
    name: 'shop',
    contracts: [Unused],
    endpoints: [
      { name: 'orders', publishes: [OrderPlaced], consumes: [PaymentCaptured], sends: [ShipOrder] },
      { name: 'billing', consumes: [OrderPlaced, OrderPlaced], publishes: [PaymentCaptured] },
      { name: 'shipping', consumes: [ShipOrder] },
    ],
  });

  it('collects every contract once, sorted by type, and answers who produces and consumes a type', () => {
    expect(system.contracts.map((c) => c.type)).toEqual(['sys.Archived', 'sys.OrderPlaced', 'sys.PaymentCaptured', 'sys.ShipOrder']);
    expect(system.producersOf('sys.OrderPlaced')).toEqual(['orders']);
    expect(system.consumersOf('sys.OrderPlaced')).toEqual(['billing']);
    expect(system.producersOf('sys.ShipOrder')).toEqual(['orders']);
    expect(system.consumersOf('sys.ShipOrder')).toEqual(['shipping']);
    expect(system.consumersOf('sys.Archived')).toEqual([]);
    expect(system.endpoints[1]?.consumes).toHaveLength(1);
    expect(system.contract('sys.ShipOrder')).toBe(ShipOrder);
    expect(system.version).toBe('0.0.0');
  });

  it('is idempotent', () => {
    const again = defineSystem(system);
    expect(again.contracts).toEqual(system.contracts);
    expect(again.endpoints).toEqual(system.endpoints);
    expect(again.name).toBe('shop');
  });

  it('rejects commands under publishes, events under sends, bad and duplicate names', () => {
    expect(codeOf(() => defineSystem({ endpoints: [{ name: 'a', publishes: [ShipOrder as never] }] }))).toBe(ErrorCodes.ENDPOINT_CONFIG);
    expect(codeOf(() => defineSystem({ endpoints: [{ name: 'a', sends: [OrderPlaced as never] }] }))).toBe(ErrorCodes.ENDPOINT_CONFIG);
    expect(codeOf(() => defineSystem({ endpoints: [{ name: 'Bad Name' }] }))).toBe(ErrorCodes.ENDPOINT_CONFIG);
    expect(codeOf(() => defineSystem({ endpoints: [{ name: 'a' }, { name: 'a' }] }))).toBe(ErrorCodes.ENDPOINT_CONFIG);
    expect(codeOf(() => defineSystem({ endpoints: [{ name: 'a', consumes: [{ type: 'x' } as never] }] }))).toBe(ErrorCodes.ENDPOINT_CONFIG);
    expect(codeOf(() => defineSystem({} as never))).toBe(ErrorCodes.ENDPOINT_CONFIG);
  });

  it('rejects two different contracts with one type name', () => {
    const OtherOrderPlaced = defineEvent('sys.OrderPlaced', { version: 2, schema: z.object({}) });
    expect(codeOf(() => defineSystem({ endpoints: [{ name: 'a', publishes: [OrderPlaced] }], contracts: [OtherOrderPlaced] }))).toBe(
      ErrorCodes.CONTRACT_DEFINITION,
    );
  });

  it('rejects two contracts of one type, kind, version and owner whose schemas differ, also within one list; accepts an identical copy', () => {
    const Reshaped = defineEvent('sys.OrderPlaced', { version: 1, schema: z.object({ orderNumber: z.number() }) });
    expect(
      codeOf(() =>
        defineSystem({
          endpoints: [
            { name: 'a', publishes: [OrderPlaced] },
            { name: 'b', consumes: [Reshaped] },
          ],
        }),
      ),
    ).toBe(ErrorCodes.CONTRACT_DEFINITION);
    expect(codeOf(() => defineSystem({ endpoints: [{ name: 'b', consumes: [OrderPlaced, Reshaped] }] }))).toBe(ErrorCodes.CONTRACT_DEFINITION);
    const Copy = defineEvent('sys.OrderPlaced', { version: 1, schema: z.object({ orderId: z.string() }) });
    const system = defineSystem({
      endpoints: [
        { name: 'a', publishes: [OrderPlaced] },
        { name: 'b', consumes: [Copy] },
      ],
    });
    expect(system.contracts).toHaveLength(1);
  });
});
