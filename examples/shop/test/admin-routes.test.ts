import type { DeadLetter, DeadLetterFilter, Transport } from '@mailroom/core';
import { pageDeadLetters } from '@mailroom/core/internal';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { adminRoutes } from '../src/gateway/admin-routes.js';
import type { DeadLetterView } from '../src/gateway/api-types.js';
import type { ControlClient } from '../src/gateway/control-client.js';
import type { InventoryClient } from '../src/gateway/inventory-client.js';

function letter(n: number): DeadLetter {
  const at = new Date(Date.UTC(2026, 0, 1, 10, 0, n));
  return {
    id: String(n),
    endpoint: 'inventory',
    messageId: `m${n}`,
    type: 'shop.PaymentAuthorized',
    headers: { 'ce-correlationid': `order-${n}` },
    body: new TextEncoder().encode('{}'),
    reason: 'MAILROOM_ERR_HANDLER_FAILED',
    errorMessage: 'the warehouse robot crashed',
    errorStack: undefined,
    attempts: 5,
    firstFailureAt: at,
    lastFailureAt: at,
    deadLetteredAt: at,
  };
}

describe('GET /dead-letters', () => {
  it('answers the newest 100 dead letters, newest first, however many older ones wait', async () => {
    const letters = Array.from({ length: 150 }, (_, i) => letter(i + 1));
    // A transport pages by (deadLetteredAt, id), as the keyset cursors of every transport do.
    const transport = { deadLetters: { page: async (filter: DeadLetterFilter = {}) => pageDeadLetters(letters, filter, 'test') } } as unknown as Transport;
    const app = Fastify();
    await adminRoutes(app, {
      transport,
      control: {} as ControlClient,
      inventory: {} as InventoryClient,
    });
    const response = await app.inject({ method: 'GET', url: '/dead-letters' });
    const views = response.json() as DeadLetterView[];
    expect(views).toHaveLength(100);
    expect(views[0]?.id).toBe('150');
    expect(views.at(-1)?.id).toBe('51');
    await app.close();
  });
});
