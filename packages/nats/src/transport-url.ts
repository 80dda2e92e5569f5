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
}

function urlError(url: string, why: string): MailroomError {
  return new MailroomError(ErrorCodes.TRANSPORT_URL, `Invalid NATS URL ${redactUrl(url)}: ${why}. Use nats://[user:password@]host[:port][,host2:port...]`);
}

/**
 * Parses `nats://[user:pass@|token@]host[:port][,host:port...]` (or `tls://` for TLS). Throws
 * `MAILROOM_ERR_TRANSPORT_URL` for anything else; the message never shows the password or token.
 */
export function parseNatsUrl(url: string): ParsedNatsUrl {
  const match = /^(nats|tls):\/\/(?:([^@/?#]*)@)?([^/?#]+)\/?$/i.exec(url.trim());
  if (!match) throw urlError(url, 'expected a host after nats:// and no path or query');
  const [, scheme, auth, hostList] = match as unknown as [string, string, string | undefined, string];
  const servers = hostList.split(',').map((host) => host.trim());
  for (const host of servers) {
    if (!/^(?:\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::[0-9]{1,5})?$/i.test(host)) throw urlError(url, `bad host ${JSON.stringify(host)}`);
  }
  const tls = scheme.toLowerCase() === 'tls';
  const prefixed = servers.map((host) => `${tls ? 'tls' : 'nats'}://${host}`);
  if (auth === undefined || auth === '') return { servers: prefixed, tls };
  const colon = auth.indexOf(':');
  if (colon < 0) return { servers: prefixed, token: decodeURIComponent(auth), tls };
  return { servers: prefixed, user: decodeURIComponent(auth.slice(0, colon)), pass: decodeURIComponent(auth.slice(colon + 1)), tls };
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
  return createNatsTransport({
    ...given,
    servers: parsed.servers,
    connectOptions: {
      ...given.connectOptions,
      ...(parsed.user !== undefined && { user: parsed.user, pass: parsed.pass }),
      ...(parsed.token !== undefined && { token: parsed.token }),
      ...(parsed.tls && { tls: given.connectOptions?.tls ?? {} }),
    },
  });
}
