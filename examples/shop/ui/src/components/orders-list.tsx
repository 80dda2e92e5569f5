import type { DeadLetterView, ServicesResponse } from '../../../src/gateway/api-types.js';
import { formatCents } from '../../../src/money.js';
import { orderStages, type Stage, sinceStart } from '../timeline.js';
import type { TrackedOrder } from '../use-orders.js';

interface Props {
  orders: TrackedOrder[];
  services: ServicesResponse | undefined;
  deadLetters: DeadLetterView[];
  onClear(): void;
}

const ICONS: Record<Stage['state'], string> = { done: '✓', failed: '✕', compensated: '↺', waiting: '', pending: '', skipped: '–' };
const STATUS_LABELS = { pending: 'In progress', completed: 'Completed', failed: 'Failed', 'timed-out': 'Timed out' } as const;

/** Why a pending order waits: the service it waits for is stopped, or its message was dead-lettered. */
function waitingHint(order: TrackedOrder, stage: Stage, services: ServicesResponse | undefined, deadLetters: DeadLetterView[]): string {
  const letter = deadLetters.find((l) => l.correlationId === order.id);
  if (letter)
    return `${letter.type.replace('shop.', '')} was dead-lettered by ${letter.endpoint} after ${letter.attempts} attempts: retry it from the Mailroom console once the cause is fixed.`;
  const service = services?.services.find((s) => s.name === stage.service);
  const depth = service?.queueDepth;
  const queued = depth ? ` (${depth} message${depth === 1 ? '' : 's'} in its queue)` : '';
  if (service?.workers.every((w) => w.state !== 'running')) {
    return `${stage.service} is ${service.desired === 'stopped' ? 'stopped' : 'down'}: the order waits in its queue${queued} and continues when it is back.`;
  }
  return `waiting for ${stage.service}${queued}`;
}

/** The order's stages; `parked`: the message the waiting stage needs is in a dead-letter queue. */
function Timeline({ order, parked }: { order: TrackedOrder; parked: boolean }) {
  const operation = order.operation;
  if (!operation) return <div class="timeline muted">connecting…</div>;
  return (
    <ol class="timeline">
      {orderStages(operation).map((stage) => (
        <li
          key={stage.key}
          class={`stage ${stage.state}${parked && stage.state === 'waiting' ? ' parked' : ''}`}
          data-stage={stage.key}
          data-state={stage.state}
        >
          <span class="dot" aria-hidden="true">
            {parked && stage.state === 'waiting' ? '!' : ICONS[stage.state]}
          </span>
          <span class="label">{stage.label}</span>
          <span class="who">{stage.service}</span>
          {stage.at && <span class="when">{sinceStart(operation, stage.at)}</span>}
          {stage.detail && <span class="detail">{stage.detail}</span>}
        </li>
      ))}
    </ol>
  );
}

/** The orders placed from this page, newest first, each with its live timeline. */
export function OrdersList({ orders, services, deadLetters, onClear }: Props) {
  return (
    <section class="card">
      <div class="card-head">
        <h2>Your orders</h2>
        {orders.length > 0 && (
          <button type="button" class="link" onClick={onClear}>
            clear
          </button>
        )}
      </div>
      {orders.length === 0 && <p class="muted">Orders you place appear here and fill in live as each service reacts.</p>}
      <div class="orders">
        {orders.map((order) => {
          const status = order.operation?.status ?? 'pending';
          const waiting = order.operation && status === 'pending' ? orderStages(order.operation).find((s) => s.state === 'waiting') : undefined;
          return (
            <article key={order.id} class={`order ${status}`} data-testid="order" data-order-id={order.id} data-status={status}>
              <header>
                <span class={`status ${status}`}>
                  {status === 'pending' && <span class="spinner" aria-hidden="true" />}
                  {STATUS_LABELS[status]}
                </span>
                <span class="summary">{order.summary}</span>
                <span class="total">{formatCents(order.totalCents)}</span>
                <span class="tag" title={`placed through POST /api/v${order.apiVersion}/orders`}>
                  v{order.apiVersion}
                </span>
                <code class="id" title={order.id}>
                  …{order.id.slice(-6)}
                </code>
              </header>
              {order.traceId && (
                <p class="trace" data-testid="order-trace" title="Every span of every service that handled this order is in this trace">
                  trace <code>{order.traceId}</code>
                </p>
              )}
              <Timeline order={order} parked={deadLetters.some((letter) => letter.correlationId === order.id)} />
              {waiting && (
                <p class="waiting" data-testid="order-waiting">
                  {waitingHint(order, waiting, services, deadLetters)}
                </p>
              )}
            </article>
          );
        })}
      </div>
    </section>
  );
}
