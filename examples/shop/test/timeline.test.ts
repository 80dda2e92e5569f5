import type { OperationEntry, OperationSnapshot } from '@mailroom/http/browser';
import { describe, expect, it } from 'vitest';
import { orderStages, sinceStart, waitingStage } from '../ui/src/timeline.js';

const START = '2026-01-01T10:00:00.000Z';

function operation(status: OperationSnapshot['status'], events: [string, unknown][]): OperationSnapshot {
  const entries: OperationEntry[] = [
    { seq: 1, kind: 'started', type: 'shop.OrderPlaced', messageId: 'm0', at: START, recordedAt: START },
    ...events.map(([type, data], i): OperationEntry => {
      const at = new Date(Date.parse(START) + (i + 1) * 100).toISOString();
      const kind = type === 'OrderCompleted' ? 'completed' : type === 'OrderRejected' || type === 'OrderCancelled' ? 'failed' : 'step';
      return { seq: i + 2, kind, type: `shop.${type}`, messageId: `m${i + 1}`, at, recordedAt: at, data };
    }),
  ];
  return { id: 'o1', name: 'place-order', status, startedAt: START, updatedAt: START, steps: [], entries };
}

const states = (op: OperationSnapshot) => orderStages(op).map((stage) => `${stage.key}:${stage.state}`);

describe('orderStages', () => {
  it('shows a new order waiting for payments, the rest to come', () => {
    const op = operation('pending', []);
    expect(states(op)).toEqual(['placed:done', 'payment:waiting', 'stock:pending', 'shipment:pending', 'result:pending']);
    expect(waitingStage(op)?.service).toBe('payments');
  });

  it('fills every stage of a completed order, with details', () => {
    const op = operation('completed', [
      ['PaymentAuthorized', { amountCents: 2400 }],
      ['StockReserved', { lines: [{ sku: 'mug', quantity: 2 }] }],
      ['ShipmentScheduled', { carrier: 'Parcel Pigeon', estimatedDelivery: '2026-01-04' }],
      ['OrderCompleted', {}],
    ]);
    expect(states(op)).toEqual(['placed:done', 'payment:done', 'stock:done', 'shipment:done', 'result:done']);
    expect(orderStages(op).map((stage) => stage.detail)).toEqual([
      undefined,
      '$24.00 authorized',
      '2 item(s) reserved',
      'Parcel Pigeon, arriving 2026-01-04',
      undefined,
    ]);
    expect(waitingStage(op)).toBeUndefined();
  });

  it("fails the payment stage when the order saga's payment timeout cancelled the order, and shows the cancellation", () => {
    const op = operation('failed', [['OrderCancelled', { reason: 'payment-timeout', detail: 'Cancelled: no payment within 3 s (payment timeout)' }]]);
    expect(states(op)).toEqual(['placed:done', 'payment:failed', 'stock:skipped', 'shipment:skipped', 'result:failed']);
    const stages = orderStages(op);
    expect(stages[1]?.label).toBe('Payment timed out');
    expect(stages[4]).toMatchObject({ label: 'Cancelled', detail: 'Cancelled: no payment within 3 s (payment timeout)' });
    expect(waitingStage(op)).toBeUndefined();
  });

  it('skips stock and shipment after a declined payment', () => {
    const op = operation('failed', [
      ['PaymentDeclined', { reason: 'Card declined' }],
      ['OrderRejected', { detail: 'Card declined' }],
    ]);
    expect(states(op)).toEqual(['placed:done', 'payment:failed', 'stock:skipped', 'shipment:skipped', 'result:failed']);
  });

  it('adds the refund after out of stock, waiting for payments until it is done', () => {
    const short = operation('pending', [
      ['PaymentAuthorized', { amountCents: 900 }],
      ['OutOfStock', { missing: [{ sku: 'stamp', requested: 1, available: 0 }] }],
    ]);
    expect(states(short)).toEqual(['placed:done', 'payment:done', 'stock:failed', 'refund:waiting', 'shipment:skipped', 'result:pending']);
    expect(orderStages(short)[2]?.detail).toBe('stamp: 0 left, 1 wanted');
    expect(waitingStage(short)?.service).toBe('payments');
    const refunded = operation('failed', [
      ['PaymentAuthorized', { amountCents: 900 }],
      ['OutOfStock', { missing: [{ sku: 'stamp', requested: 1, available: 0 }] }],
      ['PaymentRefunded', { amountCents: 900 }],
      ['OrderRejected', { detail: 'Out of stock' }],
    ]);
    expect(states(refunded)).toEqual(['placed:done', 'payment:done', 'stock:failed', 'refund:compensated', 'shipment:skipped', 'result:failed']);
  });

  it('marks a timed-out order failed with no stage waiting', () => {
    const op = operation('timed-out', [['PaymentAuthorized', { amountCents: 100 }]]);
    expect(states(op)).toEqual(['placed:done', 'payment:done', 'stock:pending', 'shipment:pending', 'result:failed']);
    expect(orderStages(op)[4]?.label).toBe('Timed out');
  });
});

describe('sinceStart', () => {
  it('shows milliseconds, then seconds', () => {
    const op = operation('pending', []);
    expect(sinceStart(op, '2026-01-01T10:00:00.250Z')).toBe('+250 ms');
    expect(sinceStart(op, '2026-01-01T10:00:02.500Z')).toBe('+2.5 s');
    expect(sinceStart(op, '2026-01-01T10:02:00.000Z')).toBe('+120 s');
    expect(sinceStart(op, undefined)).toBe('');
  });
});
