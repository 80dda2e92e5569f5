import { type OperationSnapshot, type OperationWatch, watchOperation } from '@mailroom/http/browser';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

/** An order this browser placed, as remembered across reloads. */
export interface PlacedOrder {
  readonly id: string;
  /** The operation's URL (the `Location` of the 202). */
  readonly href: string;
  readonly apiVersion: number;
  readonly totalCents: number;
  /** e.g. `2 × Mailroom mug, 1 × Sticker pack`. */
  readonly summary: string;
  readonly placedAt: string;
  /** The order's W3C trace id (from the `202 Accepted`): look it up in the tracing backend. */
  readonly traceId?: string | undefined;
}

/** A placed order and, once known, its live operation. */
export interface TrackedOrder extends PlacedOrder {
  readonly operation: OperationSnapshot | undefined;
}

const STORAGE_KEY = 'mailroom-shop-orders';
const KEEP = 25;
/**
 * Orders followed over Server-Sent Events at once; the others are polled. Over HTTP/1.1 a browser
 * opens at most 6 connections to one server and an event stream holds one while its order is
 * pending: more streams would leave none for the page's own requests, and the page would freeze.
 */
const MAX_STREAMS = 3;

function remembered(): PlacedOrder[] {
  try {
    const value = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '[]') as PlacedOrder[];
    return Array.isArray(value) ? value.slice(0, KEEP) : [];
  } catch {
    return [];
  }
}

/**
 * The orders this browser placed, newest first, each followed live with `watchOperation` (Server-Sent
 * Events, polling as a fallback) until it completes or fails. Orders the gateway no longer knows
 * (a wiped data directory) are forgotten.
 */
export function useOrders(): { orders: TrackedOrder[]; add(order: PlacedOrder): void; clear(): void } {
  const [placed, setPlaced] = useState<PlacedOrder[]>(remembered);
  const [snapshots, setSnapshots] = useState<Record<string, OperationSnapshot>>({});
  const watches = useRef(new Map<string, OperationWatch>());
  const streams = useRef(new Set<string>());

  const forget = useCallback((id: string) => {
    watches.current.get(id)?.close();
    watches.current.delete(id);
    setPlaced((list) => list.filter((order) => order.id !== id));
  }, []);

  useEffect(() => {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(placed));
    for (const [id, watch] of watches.current) {
      if (placed.some((order) => order.id === id)) continue;
      watch.close(); // the order fell off the list
      watches.current.delete(id);
    }
    for (const order of placed) {
      if (watches.current.has(order.id)) continue;
      const watch = watchOperation(order.href, (operation) => setSnapshots((all) => ({ ...all, [order.id]: operation })), {
        mode: streams.current.size < MAX_STREAMS ? 'auto' : 'poll',
        onError: (error) => {
          if (/\b404\b/.test(error.message)) forget(order.id);
        },
      });
      watches.current.set(order.id, watch);
      if (watch.mode === 'sse') {
        streams.current.add(order.id);
        void watch.done.then(() => streams.current.delete(order.id));
      }
    }
  }, [placed, forget]);

  useEffect(
    () => () => {
      for (const watch of watches.current.values()) watch.close();
    },
    [],
  );

  const add = useCallback((order: PlacedOrder) => setPlaced((list) => [order, ...list].slice(0, KEEP)), []);
  const clear = useCallback(() => {
    for (const watch of watches.current.values()) watch.close();
    watches.current.clear();
    setPlaced([]);
    setSnapshots({});
  }, []);
  return { orders: placed.map((order) => ({ ...order, operation: snapshots[order.id] })), add, clear };
}
