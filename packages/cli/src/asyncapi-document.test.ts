import { defineCommand, defineEvent, defineSystem, fromVersion } from '@mailroom/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { asyncApiDocument, validateAsyncApi } from './asyncapi-document.js';

type Category = { name: string; children: Category[] };
const Category: z.ZodType<Category> = z.object({
  name: z.string(),
  get children() {
    return z.array(Category);
  },
});
const CatalogChanged = defineEvent('aa.CatalogChanged', {
  version: 2,
  description: 'The catalog tree changed',
  schema: z.object({ root: Category }),
  upcast: { 1: fromVersion(z.object({ names: z.array(z.string()) }), (v1) => ({ root: { name: v1.names[0] ?? '', children: [] } })) },
});
const Reindex = defineCommand('aa.Reindex', { version: 1, owner: 'search', schema: z.object({ reason: z.string() }) });
const system = defineSystem({
  name: 'Catalog',
  version: '2.1.0',
  endpoints: [
    { name: 'catalog', description: 'Owns the catalog', publishes: [CatalogChanged], sends: [Reindex] },
    { name: 'search', consumes: [CatalogChanged, Reindex] },
  ],
});

describe('asyncApiDocument', () => {
  it('is valid AsyncAPI 3.0, recursive schemas included', async () => {
    const document = asyncApiDocument(system);
    expect(await validateAsyncApi(document)).toEqual([]);
    const schemas = (document.components as { schemas: Record<string, unknown> }).schemas;
    expect(JSON.stringify(schemas['aa.CatalogChanged.v2'])).toContain('"$ref":"#/components/schemas/aa.CatalogChanged.v2');
  });

  it('has a send operation per producer (current version) and a receive operation per consumer (every accepted version)', () => {
    const operations = asyncApiDocument(system).operations as Record<string, { action: string; messages: { $ref: string }[] }>;
    expect(Object.keys(operations).sort()).toEqual([
      'catalog.publishes.aa.CatalogChanged',
      'catalog.sends.aa.Reindex',
      'search.consumes.aa.CatalogChanged',
      'search.consumes.aa.Reindex',
    ]);
    expect(operations['catalog.publishes.aa.CatalogChanged']).toMatchObject({
      action: 'send',
      messages: [{ $ref: '#/channels/aa.CatalogChanged/messages/v2' }],
    });
    expect(operations['search.consumes.aa.CatalogChanged']?.messages.map((m) => m.$ref)).toEqual([
      '#/channels/aa.CatalogChanged/messages/v1',
      '#/channels/aa.CatalogChanged/messages/v2',
    ]);
  });

  it('validation reports what is wrong with a broken document', async () => {
    const document = asyncApiDocument(system);
    const errors = await validateAsyncApi({ ...document, info: { title: 'no version' }, operations: { x: { action: 'publish' } } });
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.map((e) => e.path).join(' ')).toMatch(/info|operations/);
  });
});
