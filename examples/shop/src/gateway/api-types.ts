/** The gateway API's answers, shared by the gateway (which serves them) and the web UI (which reads them). */
import type { ProductView, QuoteView } from '../inventory-api.js';
import type { Faults, ServiceStatus } from '../supervisor/control-api.js';

export type { Faults, ProductView, QuoteView, ServiceStatus };

/** The state of the gateway's circuit breaker to inventory's catalog RPC. */
export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

/** `GET /api/system`: what the shop runs on. */
export interface SystemInfo {
  /** `sqlite`, `rabbitmq` or `nats`. */
  readonly transport: string;
  /** The transport for people: the broker file or the URL without its password. */
  readonly transportDescription: string;
  /** `sqlite` (a file per service) or `postgres` (a database per service). */
  readonly databases: 'sqlite' | 'postgres';
  /** Where the Mailroom console is (dead letters are handled there), when the supervisor started one. */
  readonly consoleUrl?: string | undefined;
}

/** `GET /api/products`: the catalog, live from inventory over RPC (gRPC) or, when that fails, the last copy the gateway saw. */
export interface CatalogResponse {
  readonly products: readonly ProductView[];
  /** `live`: answered by inventory now; `cached`: inventory could not answer, this is the copy of `fetchedAt`. */
  readonly source: 'live' | 'cached';
  readonly fetchedAt: string;
  readonly breaker: BreakerState;
}

/** `POST /api/quotes` when inventory answered over RPC (200). A queued quote answers 202 with an operation instead. */
export interface QuoteAnswered {
  readonly status: 'answered';
  readonly quote: QuoteView;
}

/** `POST /api/quotes` when the call could not be made and the question was queued as `shop.RequestQuote` (202). */
export interface QuoteQueued {
  readonly operationId: string;
  readonly status: 'pending';
  readonly href: string;
  readonly events: string;
  /** The error code that made the gateway queue the question (breaker open, network, timeout...). */
  readonly reason: string;
  readonly detail: string;
}

/** One service in `GET /api/services`: the supervisor's view plus its queue. */
export interface ServiceView extends ServiceStatus {
  /** The endpoint whose queue is shown (the gateway's is its operation tracker). */
  readonly endpoint: string;
  /** Messages waiting in the endpoint's queue (ready, delayed or in flight); undefined when the broker does not know the queue yet. */
  readonly queueDepth: number | undefined;
  readonly inFlight: number | undefined;
  readonly consumers: number | undefined;
  readonly deadLetters: number;
  /** Whether the UI may stop it (not the gateway, which serves the UI). */
  readonly stoppable: boolean;
}

/** `GET /api/services`. */
export interface ServicesResponse {
  readonly services: readonly ServiceView[];
  readonly breaker: BreakerState;
  readonly faults: Faults;
}

/** One dead letter in `GET /api/dead-letters`. */
export interface DeadLetterView {
  readonly id: string;
  readonly endpoint: string;
  readonly type: string;
  readonly messageId: string;
  /** The operation (order or quote) the message belongs to. */
  readonly correlationId: string;
  readonly reason: string;
  readonly errorMessage: string;
  readonly attempts: number;
  readonly deadLetteredAt: string;
  /** The message body as JSON, when it parses. */
  readonly body: unknown;
}

/** `POST /api/orders` (v2) body. */
export interface PlaceOrderV2 {
  readonly customer: { readonly name: string; readonly email: string };
  readonly lines: readonly { readonly sku: string; readonly quantity: number }[];
}

/** `POST /api/v1/orders` body (the legacy API: one product). */
export interface PlaceOrderV1 {
  readonly email: string;
  readonly sku: string;
  readonly quantity: number;
}

/** The `202 Accepted` answer of `POST /api/orders`. */
export interface OrderAccepted {
  readonly operationId: string;
  readonly orderId: string;
  readonly status: 'pending';
  readonly href: string;
  readonly events: string;
  /** The API version that answered (1: publishes `shop.OrderPlaced` v1; 2: v2). */
  readonly apiVersion: number;
  readonly totalCents: number;
  /** The W3C trace id of the order: every span of every service that handles it is in this trace. */
  readonly traceId: string | undefined;
}
