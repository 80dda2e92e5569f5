import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import {
  defineCommand,
  defineEvent,
  fromVersion,
  type MessageOf,
  type PayloadOf,
  readIncoming,
  readIncomingNow,
  validateOutgoing,
  validateOutgoingNow,
} from './contract.js';
import { ErrorCodes } from './errors.js';

const V1 = z.object({ orderId: z.string(), total: z.number() });
const V2 = z.object({ orderId: z.string(), total: z.object({ amount: z.number(), currency: z.string() }) });
const OrderPlaced = defineEvent('shop.OrderPlaced', {
  version: 3,
  schema: z.object({ orderId: z.string(), total: z.object({ amount: z.number(), currency: z.string() }), channel: z.string().default('web') }),
  upcast: {
    1: fromVersion(V1, (v1) => ({ orderId: v1.orderId, total: { amount: v1.total, currency: 'EUR' } })),
    2: fromVersion(V2, (v2) => ({ ...v2, channel: 'legacy' })),
  },
  description: 'A customer placed an order',
});

describe('contracts', () => {
  it('infers payload types from the schema', () => {
    expectTypeOf<MessageOf<typeof OrderPlaced>>().toEqualTypeOf<{ orderId: string; total: { amount: number; currency: string }; channel: string }>();
    expectTypeOf<PayloadOf<typeof OrderPlaced>>().toEqualTypeOf<{
      orderId: string;
      total: { amount: number; currency: string };
      channel?: string | undefined;
    }>();
    expect(OrderPlaced.acceptedVersions).toEqual([1, 2, 3]);
  });

  it('upcasts every older version to the current one and validates the result', async () => {
    expect(await readIncoming(OrderPlaced, { orderId: 'a', total: 5 }, 1)).toEqual({ orderId: 'a', total: { amount: 5, currency: 'EUR' }, channel: 'legacy' });
    expect(await readIncoming(OrderPlaced, { orderId: 'a', total: { amount: 5, currency: 'USD' } }, 2)).toMatchObject({ channel: 'legacy' });
    expect(await readIncoming(OrderPlaced, { orderId: 'a', total: { amount: 5, currency: 'USD' } }, 3)).toMatchObject({ channel: 'web' });
  });

  it('refuses newer versions, gaps in the upcaster chain, invalid old payloads and throwing upcasters', async () => {
    await expect(readIncoming(OrderPlaced, {}, 4)).rejects.toMatchObject({ code: ErrorCodes.CONTRACT_UNKNOWN_VERSION, unrecoverable: true });
    const Gappy = defineEvent('Gappy', { version: 3, schema: z.object({}), upcast: { 2: (v: unknown) => v } });
    expect(Gappy.acceptedVersions).toEqual([2, 3]);
    await expect(readIncoming(Gappy, {}, 1)).rejects.toMatchObject({ code: ErrorCodes.CONTRACT_UPCAST_FAILED });
    await expect(readIncoming(OrderPlaced, { orderId: 1 }, 1)).rejects.toMatchObject({ code: ErrorCodes.CONTRACT_VALIDATION });
    const Throwing = defineEvent('Throwing', {
      version: 2,
      schema: z.object({}),
      upcast: {
        1: () => {
          throw new Error('nope');
        },
      },
    });
    await expect(readIncoming(Throwing, {}, 1)).rejects.toMatchObject({ code: ErrorCodes.CONTRACT_UPCAST_FAILED, message: expect.stringContaining('nope') });
  });

  it('validates outgoing payloads with a typed error listing every issue', async () => {
    await expect(validateOutgoing(OrderPlaced, { orderId: 7, total: { amount: 'x' } })).rejects.toMatchObject({
      code: ErrorCodes.CONTRACT_VALIDATION,
      details: { issues: expect.arrayContaining([expect.objectContaining({ path: 'orderId' }), expect.objectContaining({ path: 'total.amount' })]) },
    });
    await expect(validateOutgoing(OrderPlaced, { orderId: 'a', total: { amount: 1, currency: 'EUR' } })).resolves.toBeUndefined();
  });

  it('validates outgoing payloads without a promise for a synchronous schema, and through one for an asynchronous schema', async () => {
    expect(validateOutgoingNow(OrderPlaced, { orderId: 'a', total: { amount: 1, currency: 'EUR' } })).toBeUndefined();
    expect(() => validateOutgoingNow(OrderPlaced, { orderId: 7 })).toThrow(expect.objectContaining({ code: ErrorCodes.CONTRACT_VALIDATION }));
    const asyncSchema = (valid: boolean) => ({
      '~standard': {
        version: 1 as const,
        vendor: 'test',
        validate: async (value: unknown) => (valid ? { value } : { issues: [{ message: 'refused', path: ['id'] }] }),
      },
    });
    const Accepted = defineEvent('AsyncAccepted', { version: 1, schema: asyncSchema(true) });
    const Refused = defineEvent('AsyncRefused', { version: 1, schema: asyncSchema(false) });
    await expect(validateOutgoingNow(Accepted, { id: 1 })).resolves.toEqual({ id: 1 });
    await expect(validateOutgoingNow(Refused, { id: 1 })).rejects.toMatchObject({
      code: ErrorCodes.CONTRACT_VALIDATION,
      details: { issues: [{ path: 'id', message: 'refused' }] },
    });
  });

  it('awaits a schema whose validation returns a thenable that is not a native Promise, on both sides', async () => {
    const thenableSchema = (valid: boolean) => ({
      '~standard': {
        version: 1 as const,
        vendor: 'test',
        validate: (value: unknown) => {
          const result = valid ? { value: { ...(value as object), checked: true } } : { issues: [{ message: 'refused', path: ['id'] }] };
          // A thenable of another library or realm: not an instance of this realm's Promise.
          // biome-ignore lint/suspicious/noThenProperty: the test needs a thenable that is not a Promise
          return { then: (resolve: (r: typeof result) => unknown) => setImmediate(() => resolve(result)) } as unknown as typeof result;
        },
      },
    });
    const Accepted = defineEvent('ThenableAccepted', { version: 1, schema: thenableSchema(true) });
    const Refused = defineEvent('ThenableRefused', { version: 1, schema: thenableSchema(false) });
    const accepted = readIncomingNow(Accepted, { id: 1 }, 1);
    expect(accepted).toBeInstanceOf(Promise);
    await expect(accepted).resolves.toEqual({ id: 1, checked: true });
    await expect(readIncomingNow(Refused, { id: 1 }, 1)).rejects.toMatchObject({ code: ErrorCodes.CONTRACT_VALIDATION });
    await expect(validateOutgoingNow(Refused, { id: 1 })).rejects.toMatchObject({ code: ErrorCodes.CONTRACT_VALIDATION });
  });

  it('exports the JSON Schema of each version', () => {
    expect(OrderPlaced.jsonSchema()).toMatchObject({ type: 'object', required: expect.arrayContaining(['orderId', 'total']) });
    expect(OrderPlaced.jsonSchema(1)).toMatchObject({ properties: { total: { type: 'number' } } });
    const NoSchema = defineEvent('NoJson', { version: 1, schema: { '~standard': { version: 1, vendor: 'x', validate: (v: unknown) => ({ value: v }) } } });
    expect(NoSchema.jsonSchema()).toBeUndefined();
    const Explicit = defineEvent('Explicit', { version: 1, schema: NoSchema.schema, jsonSchema: { type: 'object' } });
    expect(Explicit.jsonSchema()).toEqual({ type: 'object' });
  });

  it('fails fast on malformed definitions', () => {
    const schema = z.object({});
    expect(() => defineEvent('has space', { version: 1, schema })).toThrow(expect.objectContaining({ code: ErrorCodes.CONTRACT_DEFINITION }));
    expect(() => defineEvent('T', { version: 0, schema })).toThrow(/version must be a positive integer/);
    expect(() => defineEvent('T', { version: 2, schema, upcast: { 2: (v: unknown) => v } })).toThrow(/upcast key 2/);
    expect(() => defineEvent('T', { version: 1, schema: {} as never })).toThrow(/Standard Schema/);
    expect(() => defineCommand('Charge', { version: 1, schema, owner: 'Not Valid' })).toThrow(expect.objectContaining({ code: ErrorCodes.ENDPOINT_CONFIG }));
    expect(defineCommand('Charge', { version: 1, schema, owner: 'payments' })).toMatchObject({ kind: 'command', owner: 'payments' });
  });
});
