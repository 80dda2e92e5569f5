/**
 * What the processes of a total-queue check tell each other over IPC: the configuration a child
 * gets in `MAILROOM_CHAOS_CONFIG` (JSON), and the messages it sends its parent.
 */

/** The configuration of a producer or consumer child. */
export interface ChaosChildConfig {
  /** The transport URL, given to `connectTransport`. */
  readonly url: string;
  /** JSON-safe transport options (namespace, prefix, replicas, timeouts...). */
  readonly transportOptions: Record<string, unknown>;
  readonly endpoint: string;
  readonly type: string;
  /** Producer: how many messages, at most how many in flight, and at what pace. */
  readonly total?: number;
  readonly publishConcurrency?: number;
  readonly ratePerSecond?: number;
  /** Consumer: deliveries handled at once. */
  readonly concurrency?: number;
}

/** A message from a child to its parent. */
export type ChaosReport =
  /** The consumer subscribed, or the producer connected. */
  | { readonly kind: 'ready' }
  /** Publishes the broker confirmed (producer), or deliveries handled and about to be acked (consumer); epoch ms. */
  | { readonly kind: 'confirmed' | 'handled'; readonly ids: readonly string[]; readonly at: number }
  /** A connection event the transport logged (`connection-lost`, `reconnected`, `consumer-resumed`...). */
  | { readonly kind: 'event'; readonly event: string; readonly at: number; readonly detail?: string | undefined }
  /** The producer reached the number of messages it may publish yet, and waits for more (epoch ms). */
  | { readonly kind: 'gated'; readonly at: number }
  /** The producer published every message; `retries` publish calls failed and were made again. */
  | { readonly kind: 'done'; readonly retries: number };

/** A message from the parent to the producer: it may publish messages up to number `upTo` (exclusive). */
export interface ChaosAllowance {
  readonly kind: 'allow';
  readonly upTo: number;
}

/** The environment variable holding a child's {@link ChaosChildConfig}. */
export const CHAOS_CONFIG_ENV = 'MAILROOM_CHAOS_CONFIG';
