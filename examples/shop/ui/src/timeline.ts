/**
 * What an order's operation means for the page: its stages (placed, payment, stock, refund,
 * shipment, result; the payment stage fails when the order saga's payment timeout cancelled the order), each done, failed, compensated, waiting, to come or skipped, and which service
 * the order waits for. Pure functions of the operation snapshot.
 */
import type { OperationEntry, OperationSnapshot } from '@mailroom/http/browser';
import { formatCents } from '../../src/money.js';
import type { ServiceName } from '../../src/service-names.js';

/** Where a stage stands. */
export type StageState = 'done' | 'failed' | 'compensated' | 'waiting' | 'pending' | 'skipped';

/** One stage of an order as the timeline shows it. */
export interface Stage {
  readonly key: 'placed' | 'payment' | 'stock' | 'refund' | 'shipment' | 'result';
  readonly label: string;
  /** The service whose event ends the stage. */
  readonly service: ServiceName;
  readonly state: StageState;
  readonly detail?: string;
  /** When its event happened (RFC 3339). */
  readonly at?: string;
}

function entryOf(operation: OperationSnapshot, type: string): OperationEntry | undefined {
  return operation.entries.find((entry) => entry.type === `shop.${type}`);
}

function data<T>(entry: OperationEntry | undefined): T {
  return (entry?.data ?? {}) as T;
}

/** The stages of an order's operation; the refund stage appears only when the order ran out of stock. */
export function orderStages(operation: OperationSnapshot): Stage[] {
  const pending = operation.status === 'pending';
  const authorized = entryOf(operation, 'PaymentAuthorized');
  const declined = entryOf(operation, 'PaymentDeclined');
  const reserved = entryOf(operation, 'StockReserved');
  const short = entryOf(operation, 'OutOfStock');
  const refunded = entryOf(operation, 'PaymentRefunded');
  const scheduled = entryOf(operation, 'ShipmentScheduled');
  const completed = entryOf(operation, 'OrderCompleted');
  const rejected = entryOf(operation, 'OrderRejected');
  // The order saga cancelled the order: no payment before its payment timeout.
  const cancelled = entryOf(operation, 'OrderCancelled');
  const timedOut = cancelled && !authorized && !declined ? cancelled : undefined;

  const stages: (Omit<Stage, 'state'> & { state?: StageState })[] = [];
  const add = (stage: Omit<Stage, 'state'>, state: StageState | undefined) => stages.push({ ...stage, ...(state && { state }) });

  add({ key: 'placed', label: 'Order placed', service: 'gateway', at: operation.startedAt }, 'done');
  add(
    {
      key: 'payment',
      label: declined ? 'Payment declined' : timedOut ? 'Payment timed out' : 'Payment',
      service: 'payments',
      ...((authorized ?? declined ?? timedOut) && { at: (authorized ?? declined ?? timedOut)?.at }),
      ...(authorized && { detail: `${formatCents(data<{ amountCents: number }>(authorized).amountCents)} authorized` }),
      ...(declined && { detail: data<{ reason: string }>(declined).reason }),
      ...(timedOut && { detail: 'No payment before the payment timeout: the order saga cancelled the order' }),
    },
    authorized ? 'done' : declined || timedOut ? 'failed' : undefined,
  );
  const missing = data<{ missing?: { sku: string; requested: number; available: number }[] }>(short).missing ?? [];
  add(
    {
      key: 'stock',
      label: short ? 'Out of stock' : 'Stock',
      service: 'inventory',
      ...((reserved ?? short) && { at: (reserved ?? short)?.at }),
      ...(reserved && { detail: `${data<{ lines: { quantity: number }[] }>(reserved).lines.reduce((n, line) => n + line.quantity, 0)} item(s) reserved` }),
      ...(short && { detail: missing.map((m) => `${m.sku}: ${m.available} left, ${m.requested} wanted`).join('; ') }),
    },
    declined || timedOut ? 'skipped' : reserved ? 'done' : short ? 'failed' : undefined,
  );
  if (short) {
    add(
      {
        key: 'refund',
        label: 'Refund',
        service: 'payments',
        ...(refunded && { at: refunded.at, detail: `${formatCents(data<{ amountCents: number }>(refunded).amountCents)} refunded` }),
      },
      refunded ? 'compensated' : undefined,
    );
  }
  const shipment = data<{ carrier: string; estimatedDelivery: string }>(scheduled);
  add(
    {
      key: 'shipment',
      label: 'Shipment',
      service: 'shipping',
      ...(scheduled && { at: scheduled.at, detail: `${shipment.carrier}, arriving ${shipment.estimatedDelivery}` }),
    },
    declined || short || cancelled ? 'skipped' : scheduled ? 'done' : undefined,
  );
  const resultLabel = cancelled ? 'Cancelled' : { pending: 'Completed', completed: 'Completed', failed: 'Failed', 'timed-out': 'Timed out' }[operation.status];
  add(
    {
      key: 'result',
      label: resultLabel,
      service: 'orders',
      ...((completed ?? rejected ?? cancelled) && { at: (completed ?? rejected ?? cancelled)?.at }),
      ...((rejected ?? cancelled) && { detail: data<{ detail: string }>(rejected ?? cancelled).detail }),
      ...(operation.status === 'timed-out' && { detail: 'No answer before the deadline' }),
    },
    completed ? 'done' : rejected || cancelled || operation.status === 'timed-out' ? 'failed' : undefined,
  );

  // The first stage without an outcome is the one the order waits for; the rest are to come.
  let waitingSet = false;
  return stages.map((stage): Stage => {
    if (stage.state) return { ...stage, state: stage.state };
    const state: StageState = pending && !waitingSet ? 'waiting' : 'pending';
    if (state === 'waiting') waitingSet = true;
    return { ...stage, state };
  });
}

/** The stage an order waits for while pending, or undefined once it ended. */
export function waitingStage(operation: OperationSnapshot): Stage | undefined {
  return orderStages(operation).find((stage) => stage.state === 'waiting');
}

/** Milliseconds from the start of the operation to `at`, as `+1.2 s` or `+340 ms`. */
export function sinceStart(operation: OperationSnapshot, at: string | undefined): string {
  if (at === undefined) return '';
  const ms = Math.max(0, Date.parse(at) - Date.parse(operation.startedAt));
  return ms < 1000 ? `+${ms} ms` : ms < 60_000 ? `+${(ms / 1000).toFixed(1)} s` : `+${Math.round(ms / 1000)} s`;
}
