import { useState } from 'preact/hooks';
import type { ServicesResponse, ServiceView } from '../../../src/gateway/api-types.js';
import { sendJson } from '../api.js';

interface Props {
  services: ServicesResponse | undefined;
  error: Error | undefined;
  onChange(): void;
}

/** up: every worker running; down: stopped on purpose; otherwise the transitional state of its first worker not running. */
function stateOf(service: ServiceView): string {
  if (service.workers.every((w) => w.state === 'running')) return 'running';
  if (service.desired === 'stopped') return service.workers.some((w) => w.state === 'stopping') ? 'stopping' : 'stopped';
  return service.workers.find((w) => w.state !== 'running')?.state ?? 'starting';
}

const STATE_LABELS: Record<string, string> = {
  running: 'up',
  stopped: 'stopped',
  stopping: 'stopping',
  starting: 'starting',
  restarting: 'restarting',
};

function Row({ service, breaker, onChange }: { service: ServiceView; breaker: string | undefined; onChange(): void }) {
  const [busy, setBusy] = useState(false);
  const state = stateOf(service);
  const running = service.workers.filter((w) => w.state === 'running');
  const restarts = service.workers.reduce((n, w) => n + w.restarts, 0);
  const act = async (action: 'stop' | 'start') => {
    setBusy(true);
    try {
      await sendJson('POST', `/api/services/${service.name}/${action}`);
    } finally {
      setBusy(false);
      onChange();
    }
  };
  const depth = service.queueDepth ?? 0;
  return (
    <li class={`service ${state}`} data-testid={`service-${service.name}`} data-state={state}>
      <span class="light" aria-hidden="true" />
      <div class="who">
        <span class="name">{service.name}</span>
        <span class="muted small">
          {STATE_LABELS[state] ?? state}
          {service.workers.length > 1 && ` · ${running.length}/${service.workers.length} workers`}
          {running.length > 0 && ` · pid ${running.map((w) => w.pid).join(', ')}`}
          {restarts > 0 && ` · ${restarts} restart${restarts === 1 ? '' : 's'}`}
        </span>
        {service.name === 'inventory' && breaker && (
          <span class={`breaker ${breaker}`} data-testid="breaker">
            gateway → gRPC breaker {breaker}
          </span>
        )}
      </div>
      <div class="queue" title={`${service.endpoint} queue: ${depth} waiting, ${service.consumers ?? '?'} consumer(s)`}>
        <span class={`depth${depth > 0 ? ' busy' : ''}`} data-testid={`queue-${service.name}`}>
          {service.queueDepth ?? '–'}
        </span>
        <span class="muted small">in queue</span>
        <span class="bar">
          <span style={{ width: `${Math.min(100, depth * 10)}%` }} />
        </span>
      </div>
      <div class="actions">
        {!service.stoppable ? (
          <span class="muted small">serves this page</span>
        ) : service.desired === 'running' ? (
          <button type="button" class="ghost" disabled={busy} data-testid={`stop-${service.name}`} onClick={() => act('stop')}>
            Stop
          </button>
        ) : (
          <button type="button" class="ghost go" disabled={busy} data-testid={`start-${service.name}`} onClick={() => act('start')}>
            Start
          </button>
        )}
      </div>
    </li>
  );
}

/** Each service with its processes, its queue depth, and stop/start buttons. */
export function ServicesPanel({ services, error, onChange }: Props) {
  return (
    <section class="card">
      <div class="card-head">
        <h2>Services</h2>
        <span class="muted small">each its own process and database</span>
      </div>
      {error && !services && <p class="notice error">{error.message}</p>}
      <ul class="services">
        {services?.services.map((service) => (
          <Row key={service.name} service={service} breaker={services.breaker} onChange={onChange} />
        ))}
      </ul>
      <p class="hint">Stop payments, place orders: they wait in its queue. Start it: they complete. Nothing is lost.</p>
    </section>
  );
}
