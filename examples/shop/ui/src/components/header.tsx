import type { ServicesResponse, SystemInfo } from '../../../src/gateway/api-types.js';
import { Logo } from './icons.js';

const TRANSPORTS: Record<string, string> = { sqlite: 'SQLite broker file', rabbitmq: 'RabbitMQ', nats: 'NATS JetStream' };

/** The title bar: what the shop is and what it runs on. */
export function Header({ system, services }: { system: SystemInfo | undefined; services: ServicesResponse | undefined }) {
  const processes = services?.services.reduce((n, s) => n + s.workers.filter((w) => w.state === 'running').length, 0);
  return (
    <header class="header">
      <div class="brand">
        <span class="logo">
          <Logo width={26} height={26} />
        </span>
        <div>
          <h1>Mailroom shop</h1>
          <p class="muted">Six services, each its own process and database, talking through durable queues.</p>
        </div>
      </div>
      <div class="chips">
        {system && (
          <span class="chip" title={system.transportDescription}>
            transport <b>{TRANSPORTS[system.transport] ?? system.transport}</b>
          </span>
        )}
        {system && (
          <span class="chip">
            databases <b>{system.databases === 'postgres' ? 'PostgreSQL, one per service' : 'SQLite, one file per service'}</b>
          </span>
        )}
        {processes !== undefined && (
          <span class="chip">
            <b>{processes}</b> processes up
          </span>
        )}
      </div>
    </header>
  );
}
