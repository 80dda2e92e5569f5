import { ErrorCodes, MailroomError, redactUrl } from '@mailroom/core';

/**
 * Splits a URL naming several cluster nodes into one URL per node:
 * `amqp://user:pass@h1:5672,h2:5673/vhost?heartbeat=5` becomes
 * `amqp://user:pass@h1:5672/vhost?heartbeat=5` and `amqp://user:pass@h2:5673/vhost?heartbeat=5`
 * (credentials, vhost and query shared). A URL with one host comes back as it is. Never throws;
 * {@link checkNodeUrl} checks each result.
 */
export function splitNodeUrls(url: string): string[] {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*@)?([^/?#]*)(.*)$/is.exec(url.trim());
  if (!match) return [url];
  const [, scheme, auth = '', hosts, rest] = match as unknown as [string, string, string | undefined, string, string];
  if (!hosts.includes(',')) return [url];
  return hosts.split(',').map((host) => `${scheme}${auth}${host.trim()}${rest}`);
}

/**
 * Takes Mailroom's own `replicas` parameter out of a URL's query (amqplib would ignore it), so one
 * URL (`amqp://u:p@h1,h2,h3/vhost?replicas=3`) configures every process of a cluster alike, the
 * `mailroom` CLI included. Returns the URL without it and the raw value, if any.
 */
export function takeReplicasParam(url: string): { url: string; replicas: string | undefined } {
  const at = url.indexOf('?');
  if (at < 0) return { url, replicas: undefined };
  const hash = url.indexOf('#', at);
  const query = new URLSearchParams(url.slice(at + 1, hash < 0 ? undefined : hash));
  const replicas = query.get('replicas') ?? undefined;
  if (replicas === undefined) return { url, replicas };
  query.delete('replicas');
  const rest = query.toString();
  return { url: `${url.slice(0, at)}${rest === '' ? '' : `?${rest}`}${hash < 0 ? '' : url.slice(hash)}`, replicas };
}

/** Checks an `amqp://` / `amqps://` URL of one node and returns it unchanged; throws `MAILROOM_ERR_TRANSPORT_URL` (password redacted). */
export function checkNodeUrl(url: unknown): string {
  if (typeof url !== 'string' || url.trim() === '') throw urlError('url must be an amqp:// or amqps:// URL string');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw urlError(
      `${redactUrl(url)} is not a valid URL: use amqp://user:password@host:5672/vhost (several nodes: amqp://user:password@host1:5672,host2:5672/vhost)`,
    );
  }
  if (parsed.protocol !== 'amqp:' && parsed.protocol !== 'amqps:') {
    throw urlError(`${redactUrl(url)} is not a RabbitMQ URL: the scheme must be amqp:// or amqps://`);
  }
  if (parsed.hostname === '') throw urlError(`${redactUrl(url)} names no host: use amqp://user:password@host:5672/vhost`);
  return url;
}

/**
 * The object form of a node URL that amqplib's `connect` reads field by field at every (re)connect
 * attempt: the connection supervisor keeps one such object and overwrites its fields to move to the
 * next node. Equivalent to the string URL: credentials decoded, vhost from the path, `heartbeat`,
 * `frameMax`, `channelMax`, `locale` from the query.
 */
export interface AmqpAddress {
  protocol: 'amqp' | 'amqps';
  hostname: string;
  port: number;
  username: string | undefined;
  password: string | undefined;
  vhost: string | undefined;
  heartbeat: number | undefined;
  frameMax: number | undefined;
  channelMax: number | undefined;
  locale: string | undefined;
}

/** The {@link AmqpAddress} of a checked node URL. */
export function amqpAddress(url: string): AmqpAddress {
  const parsed = new URL(url);
  const protocol = parsed.protocol === 'amqps:' ? 'amqps' : 'amqp';
  const number = (name: string) => {
    const value = parsed.searchParams.get(name);
    return value === null ? undefined : Number.parseInt(value, 10);
  };
  const credentials = parsed.username !== '' || parsed.password !== '';
  return {
    protocol,
    hostname: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port === '' ? (protocol === 'amqp' ? 5672 : 5671) : Number(parsed.port),
    username: credentials ? decodeURIComponent(parsed.username) : undefined,
    password: credentials ? decodeURIComponent(parsed.password) : undefined,
    // amqplib unescapes the vhost itself.
    vhost: parsed.pathname.length > 1 ? parsed.pathname.slice(1) : undefined,
    heartbeat: number('heartbeat'),
    frameMax: number('frameMax'),
    channelMax: number('channelMax'),
    locale: parsed.searchParams.get('locale') ?? undefined,
  };
}

function urlError(message: string): MailroomError {
  return new MailroomError(ErrorCodes.TRANSPORT_URL, message);
}
