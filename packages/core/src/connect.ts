import { ErrorCodes, errorMessage, MailroomError } from './errors.js';
import { createMemoryTransport } from './memory-transport.js';
import type { Transport } from './transport.js';

/** Options passed through to the adapter chosen by {@link connectTransport}. */
export interface ConnectOptions {
  /** Adapter-specific options (prefix, timeouts, stream settings...). */
  [option: string]: unknown;
}

/** What an adapter package exports for {@link connectTransport}. */
export interface TransportAdapterModule {
  createTransportFromUrl(url: string, options?: ConnectOptions): Promise<Transport>;
}

const adapters: Record<string, string> = {
  'amqp:': '@mailroom/rabbitmq',
  'amqps:': '@mailroom/rabbitmq',
  'nats:': '@mailroom/nats',
  'tls:': '@mailroom/nats',
  'sqlite:': '@mailroom/sqlite',
  'file:': '@mailroom/sqlite',
  'postgres:': '@mailroom/postgres',
  'postgresql:': '@mailroom/postgres',
};

/**
 * Replaces the password (and a token-like user) of a URL with `***`, so URLs can be logged and put
 * in error messages. Leaves non-URLs unchanged.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    else if (parsed.username && parsed.protocol.startsWith('nats')) parsed.username = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
  }
}

/** The scheme of a transport URL; a plain path (no `scheme:`) means a SQLite file. */
export function transportScheme(url: string): string {
  const match = /^([a-z][a-z0-9+.-]*:)/i.exec(url);
  if (!match || /^[a-z]:[\\/]/i.test(url)) return 'sqlite:';
  return (match[1] as string).toLowerCase();
}

/**
 * Connects the transport a URL names: `memory:`, a SQLite file path (or `sqlite:path`),
 * `amqp://` / `amqps://` (RabbitMQ), `nats://` (JetStream), `postgres://` / `postgresql://`
 * (PostgreSQL tables as the broker). The adapter package is loaded on
 * demand. Each `memory:` call makes a new private in-process broker: two transports connected to
 * `memory:` do not see each other's messages (share one `MemoryBroker` through
 * `createMemoryTransport({ broker })` for that). Throws `MAILROOM_ERR_TRANSPORT_URL` for an unknown scheme and
 * `MAILROOM_ERR_TRANSPORT_ADAPTER_MISSING` when the package is not installed.
 */
export async function connectTransport(url: string, options: ConnectOptions = {}): Promise<Transport> {
  if (typeof url !== 'string' || url.trim() === '') {
    throw new MailroomError(
      ErrorCodes.TRANSPORT_URL,
      'No transport URL given: set MAILROOM_TRANSPORT or --transport to a SQLite file path, amqp://..., nats://... or postgres://...',
    );
  }
  const scheme = transportScheme(url);
  if (scheme === 'memory:') return createMemoryTransport();
  const packageName = adapters[scheme];
  if (!packageName) {
    throw new MailroomError(
      ErrorCodes.TRANSPORT_URL,
      `Unsupported transport URL ${redactUrl(url)}: use a SQLite file path, sqlite:PATH, amqp://, amqps://, nats://, postgres:// or memory:`,
    );
  }
  let adapter: TransportAdapterModule;
  try {
    adapter = (await import(packageName)) as TransportAdapterModule;
  } catch (error) {
    throw new MailroomError(
      ErrorCodes.TRANSPORT_ADAPTER_MISSING,
      `Transport URL ${redactUrl(url)} needs the package ${packageName}: npm install ${packageName} (${errorMessage(error)})`,
      { cause: error },
    );
  }
  if (typeof adapter.createTransportFromUrl !== 'function') {
    throw new MailroomError(
      ErrorCodes.TRANSPORT_ADAPTER_MISSING,
      `${packageName} does not export createTransportFromUrl; install a version of it that matches @mailroom/core`,
    );
  }
  return adapter.createTransportFromUrl(url, options);
}
