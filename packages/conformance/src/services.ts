import { connect } from 'node:net';

/** A broker or database a test suite needs, and how a user starts it. */
export interface ServiceRequirement {
  /** Shown in messages, e.g. `RabbitMQ`. */
  name: string;
  host?: string;
  port: number;
  /** The command that starts it on a developer machine. */
  start: string;
}

const warned = new Set<string>();

function reachable(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Whether a service's port answers. When it does not: under `CI` this throws (broker suites are
 * required there); elsewhere it prints one line saying what to start and returns false, so the
 * suite skips.
 */
export async function serviceAvailable(service: ServiceRequirement): Promise<boolean> {
  const host = service.host ?? '127.0.0.1';
  if (await reachable(host, service.port, 2000)) return true;
  const where = `${host}:${service.port}`;
  if (process.env.CI) {
    throw new Error(`${service.name} is required when CI is set, but nothing answers on ${where}. Start it with: ${service.start}`);
  }
  if (!warned.has(service.name)) {
    warned.add(service.name);
    console.warn(`[mailroom] skipping ${service.name} tests: nothing answers on ${where}. Start it with: ${service.start}`);
  }
  return false;
}

/**
 * Whether a program a suite runs itself (a broker binary for a cluster of its own) is installed,
 * given whether it was `found`. When it is not: under `CI` this throws (the suite is required
 * there); elsewhere it prints one line saying how to install it and returns false, so the suite skips.
 */
export function toolAvailable(tool: { name: string; found: boolean; install: string }): boolean {
  if (tool.found) return true;
  if (process.env.CI) throw new Error(`${tool.name} is required when CI is set, but it is not installed. Install it with: ${tool.install}`);
  if (!warned.has(tool.name)) {
    warned.add(tool.name);
    console.warn(`[mailroom] skipping ${tool.name} tests: it is not installed. Install it with: ${tool.install}`);
  }
  return false;
}

/** The services on a Mailroom developer machine, with their default ports and start commands. */
export const Services = {
  rabbitmq: { name: 'RabbitMQ', port: 5672, start: 'rabbitmq-server -detached' },
  nats: {
    name: 'NATS JetStream',
    port: 4222,
    start:
      'nats-server -js -a 127.0.0.1 -p 4222 -sd /var/lib/nats-server (or: start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log)',
  },
  postgres: { name: 'PostgreSQL', port: 5432, start: 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start' },
} as const satisfies Record<string, ServiceRequirement>;
