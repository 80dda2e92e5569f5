import type { CatalogResponse, DeadLetterView, ServicesResponse, SystemInfo } from '../../src/gateway/api-types.js';
import { ApiError, getJson } from './api.js';
import { ConsoleLink } from './components/console-link.js';
import { FaultCard } from './components/fault-card.js';
import { Guide } from './components/guide.js';
import { Header } from './components/header.js';
import { OperatorLogin, type SessionInfo } from './components/operator-login.js';
import { OrderForm } from './components/order-form.js';
import { OrdersList } from './components/orders-list.js';
import { QuoteCard } from './components/quote-card.js';
import { ServicesPanel } from './components/services-panel.js';
import { useOrders } from './use-orders.js';
import { usePoll } from './use-poll.js';

/**
 * The shop's single page: place orders and watch them, and the operator's side (services, faults,
 * dead letters), shown once this browser holds an operator session (the gateway refuses those
 * routes without one).
 */
export function App() {
  const system = usePoll(() => getJson<SystemInfo>('/api/system'), 60_000);
  const session = usePoll(() => getJson<SessionInfo>('/api/session'), 15_000);
  const operator = session.data?.authenticated === true;
  // A 401 means the session ended (expired, logged out elsewhere, gateway restarted): ask again at once.
  const operatorCall = async <T,>(path: string): Promise<T> =>
    getJson<T>(path).catch((error: unknown) => {
      if (error instanceof ApiError && error.status === 401) session.refresh();
      throw error;
    });
  const services = usePoll(() => operatorCall<ServicesResponse>('/api/services'), 1000, operator);
  const catalog = usePoll(() => getJson<CatalogResponse>('/api/products'), 4000);
  const deadLetters = usePoll(() => operatorCall<DeadLetterView[]>('/api/dead-letters'), 1500, operator);
  const orders = useOrders();

  return (
    <div class="page">
      <Header system={system.data} services={services.data} />
      <main class="layout">
        <section class="column">
          <OrderForm
            catalog={catalog.data}
            catalogError={catalog.error}
            onPlaced={(order) => {
              orders.add(order);
              catalog.refresh();
            }}
          />
          <OrdersList orders={orders.orders} services={services.data} deadLetters={deadLetters.data ?? []} onClear={orders.clear} />
          <QuoteCard products={catalog.data?.products ?? []} breaker={services.data?.breaker} />
        </section>
        <aside class="column">
          <OperatorLogin session={session.data} onChange={session.refresh} />
          {operator && <ServicesPanel services={services.data} error={services.error} onChange={services.refresh} />}
          {operator && <FaultCard faults={services.data?.faults} onChange={services.refresh} />}
          {operator && <ConsoleLink letters={deadLetters.data} consoleUrl={system.data?.consoleUrl} poison={services.data?.faults.poison} />}
          <Guide />
        </aside>
      </main>
    </div>
  );
}
