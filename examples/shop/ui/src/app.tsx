import type { CatalogResponse, DeadLetterView, ServicesResponse, SystemInfo } from '../../src/gateway/api-types.js';
import { getJson } from './api.js';
import { DeadLetters } from './components/dead-letters.js';
import { FaultCard } from './components/fault-card.js';
import { Guide } from './components/guide.js';
import { Header } from './components/header.js';
import { OrderForm } from './components/order-form.js';
import { OrdersList } from './components/orders-list.js';
import { QuoteCard } from './components/quote-card.js';
import { ServicesPanel } from './components/services-panel.js';
import { useOrders } from './use-orders.js';
import { usePoll } from './use-poll.js';

/** The shop's single page: place orders and watch them, and the operator's side (services, faults, dead letters). */
export function App() {
  const system = usePoll(() => getJson<SystemInfo>('/api/system'), 60_000);
  const services = usePoll(() => getJson<ServicesResponse>('/api/services'), 1000);
  const catalog = usePoll(() => getJson<CatalogResponse>('/api/products'), 4000);
  const deadLetters = usePoll(() => getJson<DeadLetterView[]>('/api/dead-letters'), 1500);
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
          <ServicesPanel services={services.data} error={services.error} onChange={services.refresh} />
          <FaultCard faults={services.data?.faults} onChange={services.refresh} />
          <DeadLetters letters={deadLetters.data} onReplayed={deadLetters.refresh} poison={services.data?.faults.poison} />
          <Guide />
        </aside>
      </main>
    </div>
  );
}
