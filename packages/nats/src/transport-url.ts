import { type ConnectOptions, ErrorCodes, MailroomError, redactUrl, type Transport } from '@mailroom/core';
import type { NatsTransportOptions } from './nats-options.js';
import { createNatsTransport } from './nats-transport.js';

/** Servers and credentials read from a `nats://` or `tls://` URL. */
export interface ParsedNatsUrl {
  readonly servers: string[];
  readonly user?: string;
  readonly pass?: string;
  readonly token?: string;
  readonly tls: boolean;
  /** Stream replicas from `?replicas=N`, when given. */
  readonly replicas?: number;
}

function urlError(url: string, why: string): MailroomError {
  return new MailroomError(
    ErrorCodes.TRANSPORT_URL,
    `Invalid NATS URL ${redactUrl(url)}: ${why}. Use nats://[user:password@]host[:port][,host2:port...][?replicas=3]`,
  );
}

/**
 * Parses `nats://[user:pass@|token@]host[:port][,host:port...][?replicas=N]` (or `tls://` for TLS):
 * several hosts are servers of one cluster; `replicas` sets the streams' replicas (1, 3 or 5).
 * Throws `MAILROOM_ERR_TRANSPORT_URL` for anything else; the message never shows the password or token.
 */
export function parseNatsUrl(url: string): ParsedNatsUrl {
  const match = /^(nats|tls):\/\/(?:([^@/?#]*)@)?([^/?#]+)\/?(?:\?([^#]*))?$/i.exec(url.trim());
  if (!match) throw urlError(url, 'expected a host after nats:// and no path');
  const [, scheme, auth, hostList, query] = match as unknown as [string, string, string | undefined, string, string | undefined];
  const replicas = replicasParam(url, query);
  const servers = hostList.split(',').map((host) => host.trim());
  for (const host of servers) {
    if (!/^(?:\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::[0-9]{1,5})?$/i.test(host)) throw urlError(url, `bad host ${JSON.stringify(host)}`);
  }
  const tls = scheme.toLowerCase() === 'tls';
  const prefixed = servers.map((host) => `${tls ? 'tls' : 'nats'}://${host}`);
  const common = { servers: prefixed, tls, ...(replicas !== undefined && { replicas }) };
  if (auth === undefined || auth === '') return common;
  const colon = auth.indexOf(':');
  if (colon < 0) return { ...common, token: decodeURIComponent(auth) };
  return { ...common, user: decodeURIComponent(auth.slice(0, colon)), pass: decodeURIComponent(auth.slice(colon + 1)) };
}

/** The `replicas` of a NATS URL's query (the only parameter it takes), or undefined. */
function replicasParam(url: string, query: string | undefined): number | undefined {
  if (query === undefined || query === '') return undefined;
  const params = new URLSearchParams(query);
  for (const key of params.keys()) if (key !== 'replicas') throw urlError(url, `unknown parameter ${JSON.stringify(key)} (the only one is replicas)`);
  const value = params.get('replicas') as string;
  if (!/^[135]$/.test(value)) throw urlError(url, `replicas must be 1, 3 or 5, got ${JSON.stringify(value)}`);
  return Number(value);
}

/**
 * Connects a NATS JetStream transport from a URL: what `connectTransport` in `@mailroom/core`
 * loads for `nats://` and `tls://`. Servers and credentials come from the URL, every other setting
 * from `options` (see {@link NatsTransportOptions}). Throws `MAILROOM_ERR_TRANSPORT_URL` for a
 * malformed URL and `MAILROOM_ERR_TRANSPORT_UNAVAILABLE` when the server cannot be reached.
 */
export async function createTransportFromUrl(url: string, options: ConnectOptions = {}): Promise<Transport> {
  const parsed = parseNatsUrl(url);
  const given = options as NatsTransportOptions;
  if (parsed.replicas !== undefined && given.replicas !== undefined && parsed.replicas !== given.replicas) {
    throw new MailroomError(
      ErrorCodes.TRANSPORT_CONFIG,
      `The NATS URL ${redactUrl(url)} says replicas=${parsed.replicas} but the options say replicas: ${given.replicas}; give it once`,
    );
  }
  return createNatsTransport({
    ...given,
    ...(parsed.replicas !== undefined && { replicas: parsed.replicas }),
    servers: parsed.servers,
    connectOptions: {
      ...given.connectOptions,
      ...(parsed.user !== undefined && { user: parsed.user, pass: parsed.pass }),
      ...(parsed.token !== undefined && { token: parsed.token }),
      ...(parsed.tls && { tls: given.connectOptions?.tls ?? {} }),
    },
  });
}
