import type { Headers } from './envelope.js';

/**
 * Where a message goes: an event fans out to every endpoint subscribed to its type;
 * a command goes to the queue of one endpoint, its `destination`.
 */
export type Route = { readonly kind: 'event'; readonly type: string } | { readonly kind: 'command'; readonly type: string; readonly destination: string };

/** Bytes and headers handed to a transport, with where they go. */
export interface OutgoingMessage {
  readonly route: Route;
  readonly headers: Headers;
  readonly body: Uint8Array;
  /**
   * Deliver no sooner than this instant (a scheduled message); undefined, or a time not in the
   * future, means now. Endpoints set it only within the transport's
   * {@link TransportCapabilities.maxScheduleDelayMs}; a transport delivers the message after it, at
   * most its `delayPrecisionMs` late (while its consumers run), and keeps it across restarts when durable.
   */
  readonly deliverAt?: Date | undefined;
}

/** Why and how a message failed, recorded with a dead letter. */
export interface FailureInfo {
  /** A `MAILROOM_ERR_*` code. */
  readonly reason: string;
  readonly errorMessage: string;
  readonly errorStack?: string | undefined;
}

/** What the endpoint tells the transport when it dead-letters a delivery. */
export interface DeadLetterRequest extends FailureInfo {
  /** Delivery attempts made, this one included. */
  readonly attempts: number;
  readonly firstFailureAt: Date;
  readonly lastFailureAt: Date;
}

/**
 * One message handed to a consumer. The consumer settles it exactly once: `ack`, `retry` or
 * `deadLetter`. Unsettled deliveries return to the queue when the subscription closes or the
 * consumer dies (after the lease, for transports that use one).
 */
export interface Delivery {
  /** The headers exactly as published (transport bookkeeping headers removed). */
  readonly headers: Headers;
  /** The body exactly as published. */
  readonly body: Uint8Array;
  /** 1 on the first delivery; +1 on every redelivery (retry, crash, lease expiry). */
  readonly attempt: number;
  /** When the first failed attempt was recorded, if any attempt failed before. */
  readonly firstFailureAt: Date | undefined;
  /** Removes the message from the endpoint's queue. */
  ack(): Promise<void>;
  /** Puts the message back, to be delivered again no sooner than `delayMs` from now, with attempt + 1. */
  retry(delayMs: number, failure: FailureInfo): Promise<void>;
  /**
   * Moves the message, byte for byte, to the endpoint's dead-letter queue with the failure details.
   * When the verbatim copy cannot be stored for a reason that would recur (it is too large once
   * the details are added, or holds headers the dead-letter store cannot carry), the transport
   * stores a safe form instead (documented per transport; the letter says so) rather than fail.
   * Rejects only when the broker cannot be reached; the message then stays in its queue.
   */
  deadLetter(request: DeadLetterRequest): Promise<void>;
}

/** What an endpoint asks a transport for when it starts consuming. */
export interface SubscribeOptions {
  /** The endpoint (queue / durable consumer) name. */
  readonly endpoint: string;
  /** Event types to receive; the transport binds them durably, so events published while no consumer runs wait. */
  readonly events: readonly string[];
  /** Command types this endpoint owns (they are routed to its queue by name; listed for topology and tooling). */
  readonly commands: readonly string[];
  /** At most this many deliveries are unsettled at once for this subscription (the prefetch). */
  readonly concurrency: number;
  /**
   * The last-resort bound: a message delivered more than this many times (its `attempt` above it)
   * is never handed to the handler again; the transport parks it in the dead-letter queue with
   * reason `MAILROOM_ERR_TRANSPORT_DELIVERY_LIMIT`, by a path that does not depend on the
   * message's content, so a message whose handling or dead-lettering keeps failing cannot loop
   * for ever. Endpoints pass theirs; default {@link DEFAULT_MAX_DELIVERIES}.
   */
  readonly maxDeliveries?: number;
}

/** The `maxDeliveries` of a subscription that does not set one. */
export const DEFAULT_MAX_DELIVERIES = 20;

/** A running consumer. */
export interface Subscription {
  /** Stops taking new deliveries; deliveries already handed out can still be settled. Idempotent. */
  pause(): Promise<void>;
  /** Stops consuming and returns every unsettled delivery to the queue. Idempotent; never waits for handlers. */
  close(): Promise<void>;
}

/** Called by the transport for each delivery. It must eventually settle the delivery; it should not throw. */
export type DeliveryHandler = (delivery: Delivery) => void | Promise<void>;

/**
 * What a transport guarantees. The conformance suite checks each declared capability.
 */
export interface TransportCapabilities {
  /** Messages survive a restart of every process (stored on disk by the broker). */
  readonly durable: boolean;
  /** Several processes can connect to the same broker (not only one process's memory). */
  readonly crossProcess: boolean;
  /** `retry(delayMs)` holds the message for at least `delayMs`. */
  readonly delayedRetry: boolean;
  /** Dead letters are kept, listable and replayable through `deadLetters`. */
  readonly deadLetterQueue: boolean;
  /** The precision of delayed delivery in milliseconds (how late a delayed retry or scheduled message may come). */
  readonly delayPrecisionMs: number;
  /**
   * The longest delay a message may be scheduled with (`OutgoingMessage.deliverAt` at most this many
   * ms ahead); endpoints refuse longer ones with `MAILROOM_ERR_SCHEDULE_TOO_FAR`. Absent (a transport
   * written before scheduling existed) means 0: the transport cannot schedule, only deliver now.
   */
  readonly maxScheduleDelayMs?: number;
}

/** A message moved to an endpoint's dead-letter queue, with why. */
export interface DeadLetter {
  /** Transport-assigned id, unique within the transport. */
  readonly id: string;
  readonly endpoint: string;
  /** The message's envelope id (`ce-id`), unchanged. */
  readonly messageId: string;
  /** The message's type (`ce-type`), unchanged. */
  readonly type: string;
  /** Headers byte for byte as the consumer received them. */
  readonly headers: Headers;
  /** Body byte for byte as the consumer received it. */
  readonly body: Uint8Array;
  readonly reason: string;
  readonly errorMessage: string;
  readonly errorStack: string | undefined;
  readonly attempts: number;
  readonly firstFailureAt: Date;
  readonly lastFailureAt: Date;
  readonly deadLetteredAt: Date;
}

/** The order dead letters are listed or paged in, by (dead-lettered time, id). */
export type DeadLetterOrder = 'oldest-first' | 'newest-first';

/** Which dead letters to list, page, replay or purge; every criterion given must hold. */
export interface DeadLetterFilter {
  readonly endpoint?: string;
  readonly type?: string;
  /** Only those dead-lettered at or after this time. */
  readonly since?: Date;
  /** Only those dead-lettered strictly before this time (e.g. "retry all before a cut-off"). */
  readonly before?: Date;
  readonly ids?: readonly string[];
  /**
   * At most this many. For `page` it is the page size: default {@link DEFAULT_DEAD_LETTER_PAGE_SIZE},
   * 1 to {@link MAX_DEAD_LETTER_PAGE_SIZE}, anything else throws `MAILROOM_ERR_DEAD_LETTER_FILTER_INVALID`.
   */
  readonly limit?: number;
  /** `oldest-first` (the default) or `newest-first`, by (dead-lettered time, id). */
  readonly order?: DeadLetterOrder;
  /**
   * Where a `page` continues: the `nextCursor` of the previous page, read with the same filter.
   * Opaque; only `page` reads it. A malformed cursor, or one from another transport or order,
   * throws `MAILROOM_ERR_DEAD_LETTER_CURSOR_INVALID`.
   */
  readonly cursor?: string;
}

/** The page size of `DeadLetterQueue.page` when the filter sets no `limit`. */
export const DEFAULT_DEAD_LETTER_PAGE_SIZE = 50;
/** The largest page `DeadLetterQueue.page` returns. */
export const MAX_DEAD_LETTER_PAGE_SIZE = 1000;

/** One page of dead letters and where the next one starts. */
export interface DeadLetterPage {
  /** At most `limit` letters, in the filter's order. */
  readonly letters: DeadLetter[];
  /** Pass it as `cursor` (same filter otherwise) for the next page; undefined when this page is the last. */
  readonly nextCursor: string | undefined;
}

/**
 * The dead-letter queues of a transport: list, inspect, replay, purge.
 */
export interface DeadLetterQueue {
  /** Dead letters matching the filter, in its order (oldest first by default); the cursor is ignored. */
  list(filter?: DeadLetterFilter): Promise<DeadLetter[]>;
  /**
   * One page of the dead letters matching the filter, in its order. Cursors are keyset positions
   * on (dead-lettered time, id), not offsets: walking every page from no cursor to `nextCursor`
   * undefined returns each letter that existed at the start and was not removed meanwhile exactly
   * once, however many letters are added or removed between pages. Throws
   * `MAILROOM_ERR_DEAD_LETTER_FILTER_INVALID` for a limit outside 1..1000, an invalid date or an
   * unknown order, and `MAILROOM_ERR_DEAD_LETTER_CURSOR_INVALID` for a cursor this transport did
   * not hand out for this order. How much a page costs is documented per transport.
   */
  page(filter?: DeadLetterFilter): Promise<DeadLetterPage>;
  /** Throws `MAILROOM_ERR_DEAD_LETTER_NOT_FOUND` when the id is unknown. */
  get(id: string): Promise<DeadLetter>;
  /**
   * Sends the dead letter back to its endpoint's queue with its original headers and body
   * (attempts start again at 1), and removes it from the dead-letter queue. Resolves once the
   * message is durable in the queue. Throws `MAILROOM_ERR_DEAD_LETTER_NOT_FOUND` for an unknown id.
   */
  replay(id: string): Promise<void>;
  /** Deletes matching dead letters; returns how many. */
  purge(filter?: DeadLetterFilter): Promise<number>;
}

/** Depth and consumers of one endpoint's queue, for tooling. */
export interface QueueInfo {
  readonly endpoint: string;
  /** The broker-side name (queue, stream/consumer, table). */
  readonly name: string;
  /** Messages waiting (ready or delayed) not yet acknowledged. */
  readonly depth: number;
  /** Messages currently delivered and not yet settled, when the broker tells. */
  readonly inFlight: number | undefined;
  /** Consumers attached, when the broker tells. */
  readonly consumers: number | undefined;
  readonly deadLetters: number;
  /** Event types bound to the queue. */
  readonly events: readonly string[];
  /**
   * Milliseconds since the oldest message still in the queue (waiting, delayed or unsettled) was
   * enqueued; 0 for an empty queue; undefined when the broker cannot tell (RabbitMQ over AMQP).
   */
  readonly oldestMessageAgeMs?: number | undefined;
}

/** Whether a transport can reach its broker now, as cheap to read as a field (no I/O). */
export interface TransportHealth {
  /** True while publishes and deliveries can flow (connected, not blocked, not closed). */
  readonly connected: boolean;
  /** What the state is, in a few words (`connected`, `reconnecting: ...`, `closed`). */
  readonly detail: string;
}

/**
 * The message-moving part of a transport: what endpoints, the relay and the heartbeat use.
 * It moves bytes and headers and settles deliveries; it never decides retry policy (the
 * endpoint does). A transport that implements only this works with endpoints; its management
 * part, {@link TransportAdmin}, is optional (see {@link transportAdmin}).
 */
export interface MessageTransport {
  /** A short name such as `sqlite`, `rabbitmq`, `nats`, `memory`. */
  readonly name: string;
  readonly capabilities: TransportCapabilities;
  /**
   * Publishes one message. Resolves only once the broker holds it durably (for durable
   * transports); rejects with a typed error otherwise. An event with no subscriber is dropped.
   * A command is stored in its destination's queue even if that endpoint has never started.
   */
  publish(message: OutgoingMessage): Promise<void>;
  /**
   * Optional: cancels a scheduled message (published with a `deliverAt` in the future) that no
   * consumer has received yet, in every queue it went to. Resolves true when at least one copy was
   * removed, false when none was waiting (unknown id, already delivered, or not scheduled). A
   * transport without this method cannot cancel (see docs/scheduling.md).
   */
  cancelScheduled?(messageId: string): Promise<boolean>;
  /** Declares the endpoint's queue and bindings, then consumes. */
  subscribe(options: SubscribeOptions, handler: DeliveryHandler): Promise<Subscription>;
  /**
   * The connection state as last observed, without I/O: what readiness probes read. Every Mailroom
   * transport has it; it is optional for transports written against older versions of this interface.
   */
  health?(): TransportHealth;
  /** Closes connections; unsettled deliveries return to their queues. Idempotent; never waits for handlers. */
  close(): Promise<void>;
}

/**
 * The management part of a transport: its dead letters and its queues, for the console, the
 * `mailroom` CLI and queue metrics. A transport may leave it out; one that declares the
 * `deadLetterQueue` capability must have it (the conformance suite checks both parts).
 */
export interface TransportAdmin {
  readonly deadLetters: DeadLetterQueue;
  /** Queues known to the broker, with depth; for `mailroom topology` and the reference system's UI. */
  queues(): Promise<QueueInfo[]>;
}

/**
 * A transport with both parts, message moving and management: what every Mailroom transport
 * (memory, SQLite, PostgreSQL, RabbitMQ, NATS) is, what `connectTransport` returns and what the
 * console and the CLI take. Endpoints need only its {@link MessageTransport} part.
 */
export interface Transport extends MessageTransport, TransportAdmin {}
