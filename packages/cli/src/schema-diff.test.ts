import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { diffSchemas } from './schema-diff.js';

const json = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
const summary = (before: z.ZodType, after: z.ZodType) => diffSchemas(json(before), json(after)).map((c) => `${c.breaking ? '!' : '+'} ${c.change} ${c.path}`);

describe('diffSchemas', () => {
  it('finds nothing between equal schemas', () => {
    const schema = z.object({ id: z.string(), lines: z.array(z.object({ sku: z.string() })), tags: z.tuple([z.string(), z.number()]) });
    expect(diffSchemas(json(schema), json(schema))).toEqual([]);
  });

  it('reports removed and retyped fields, nested in objects, arrays and tuples', () => {
    const before = z.object({
      id: z.string(),
      total: z.number(),
      address: z.object({ city: z.string(), zip: z.string() }),
      lines: z.array(z.object({ qty: z.number().int() })),
      pair: z.tuple([z.string(), z.number()]),
    });
    const after = z.object({
      id: z.string(),
      total: z.string(),
      address: z.object({ city: z.string() }),
      lines: z.array(z.object({ qty: z.number() })),
      pair: z.tuple([z.string(), z.boolean()]),
    });
    expect(summary(before, after)).toEqual(['! field-retyped total', '! field-removed address.zip', '! field-retyped lines[].qty', '! field-retyped pair[1]']);
  });

  it('treats a new required field without a default, and a field made required or optional, as breaking; optional or defaulted additions as compatible', () => {
    const before = z.object({ id: z.string(), note: z.string().optional(), code: z.string() });
    const after = z.object({
      id: z.string(),
      note: z.string(),
      code: z.string().optional(),
      currency: z.string(),
      channel: z.string().default('web'),
      coupon: z.string().optional(),
    });
    expect(summary(before, after)).toEqual([
      '! field-required note',
      '! field-optional code',
      '! field-required currency',
      '+ field-added channel',
      '+ field-added coupon',
    ]);
  });

  it('sees nullability and enum values as part of the type', () => {
    expect(summary(z.object({ a: z.string() }), z.object({ a: z.string().nullable() }))).toEqual(['! field-retyped a']);
    expect(summary(z.object({ s: z.enum(['new', 'paid']) }), z.object({ s: z.enum(['new', 'paid', 'void']) }))).toEqual(['! field-retyped s']);
    const detail = diffSchemas(json(z.object({ s: z.enum(['new', 'paid']) })), json(z.object({ s: z.enum(['new']) })))[0]?.detail;
    expect(detail).toBe('field "s" changed type: string ("new", "paid") -> string ("new")');
  });

  it('follows $refs of recursive schemas without looping, and reports each change once', () => {
    type Node = { name: string; children: Node[] };
    const Before: z.ZodType<Node> = z.object({
      name: z.string(),
      get children() {
        return z.array(Before);
      },
    });
    type After = { label: string; children: After[] };
    const AfterSchema: z.ZodType<After> = z.object({
      label: z.string(),
      get children() {
        return z.array(AfterSchema);
      },
    });
    expect(summary(Before, AfterSchema)).toEqual(['! field-removed name', '! field-required label']);
  });

  it('resolves $defs references on both sides', () => {
    const before = {
      type: 'object',
      properties: { a: { $ref: '#/$defs/Money' } },
      required: ['a'],
      $defs: { Money: { type: 'object', properties: { amount: { type: 'number' } }, required: ['amount'] } },
    };
    const after = { type: 'object', properties: { a: { type: 'object', properties: { amount: { type: 'string' } }, required: ['amount'] } }, required: ['a'] };
    expect(diffSchemas(before, after).map((c) => `${c.change} ${c.path}`)).toEqual(['field-retyped a.amount']);
  });
});
