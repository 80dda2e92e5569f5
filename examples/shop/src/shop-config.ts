/**
 * The shop's settings, read from environment variables (the supervisor passes them on to every
 * service process). A wrong value stops the process at once with a message saying what to set.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { redactUrl, transportScheme } from '@mailroom/core';

/** A setting the shop cannot run with; the message names the variable and what to set it to. */
export class ShopConfigError extends Error {
  override readonly name = 'ShopConfigError';
}

/** Everything a shop process needs to know, defaults filled in. */
export interface ShopConfig {
  /** Where the SQLite files live (the broker and one database per service). */
  readonly dataDir: string;
  /** The transport URL: the SQLite broker file by default, or `amqp://...`, `nats://...`, `postgres://...`. */
  readonly transportUrl: string;
  /** `sqlite`, `rabbitmq`, `nats` or `postgres`. */
  readonly transportKind: 'sqlite' | 'rabbitmq' | 'nats' | 'postgres';
  /**
   * Prefix of broker-side names on RabbitMQ, NATS and PostgreSQL (exchanges, queues, streams,
   * tables), so several shops can share a broker. Undefined: the transports' defaults, which the
   * `mailroom` CLI uses too.
   */
  readonly namespace: string | undefined;
  /** PostgreSQL server URL (no database): each service then gets the database `<pgDatabasePrefix><service>`. Undefined: SQLite files. */
  readonly pgUrl: string | undefined;
  readonly pgDatabasePrefix: string;
  /** The gateway's HTTP port (0 picks a free one) and host. */
  readonly port: number;
  readonly host: string;
  /** Retries of a failed handler: immediate ones, then delayed ones starting at `retryDelayMs` (x4 each time). */
  readonly immediateRetries: number;
  readonly delayedRetries: number;
  readonly retryDelayMs: number;
  /** How long an order may stay pending before its operation times out. */
  readonly orderTimeoutMs: number;
  /** How long the order saga waits for the payment before it cancels the order (`SHOP_PAYMENT_TIMEOUT_MS`). */
  readonly paymentTimeoutMs: number;
  /** How long the gateway's breaker to inventory stays open before a probe call. */
  readonly breakerHalfOpenMs: number;
  /** The first delay before the supervisor restarts a crashed process (doubles up to 30 s). */
  readonly restartDelayMs: number;
  /** Whether the poison fault is on when the shop starts (inventory fails on the poison product). */
  readonly poisonFault: boolean;
  /** Most operation event streams (SSE) one client address may hold open at the gateway; one more answers 429. */
  readonly maxStreamsPerClient: number;
  /** The port of each process's operations server (`/metrics`, `/health/*`) on loopback; 0 (default) picks a free one per process. */
  readonly opsPort: number;
  /** The address the operations server binds: loopback by default; `0.0.0.0` in a pod, so the kubelet's probes and Prometheus reach it. */
  readonly opsHost: string;
}

const SHOP_DIR = fileURLToPath(new URL('..', import.meta.url));

/** The default data directory: `.mailroom/shop` at the repository root, wherever the command runs. */
export const DEFAULT_DATA_DIR = resolve(SHOP_DIR, '..', '..', '.mailroom', 'shop');

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ShopConfigError(
      `${name}=${JSON.stringify(raw)} is not valid: set it to a whole number between ${min} and ${max}, or unset it (default ${fallback})`,
    );
  }
  return value;
}

function host(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^[A-Za-z0-9.:-]+$/.test(raw))
    throw new ShopConfigError(
      `${name}=${JSON.stringify(raw)} is not valid: set it to an IP address or host name (such as 0.0.0.0), or unset it (default ${fallback})`,
    );
  return raw;
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'on', 'yes'].includes(raw)) return true;
  if (['0', 'false', 'off', 'no'].includes(raw)) return false;
  throw new ShopConfigError(`${name}=${JSON.stringify(env[name])} is not valid: set it to on or off`);
}

function transportKindOf(url: string): ShopConfig['transportKind'] {
  const scheme = transportScheme(url);
  if (scheme === 'sqlite:' || scheme === 'file:') return 'sqlite';
  if (scheme === 'amqp:' || scheme === 'amqps:') return 'rabbitmq';
  if (scheme === 'nats:' || scheme === 'tls:') return 'nats';
  if (scheme === 'postgres:' || scheme === 'postgresql:') return 'postgres';
  throw new ShopConfigError(
    `MAILROOM_TRANSPORT=${redactUrl(url)} is not a transport the shop runs on: unset it (SQLite broker file), or use amqp://guest:guest@localhost, nats://localhost:4222 or postgres://postgres@127.0.0.1:5432/shop_broker`,
  );
}

function pgServerUrl(raw: string | undefined): string | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ShopConfigError(`SHOP_PG_URL=${redactUrl(raw)} is not a URL: use postgres://user@host:5432 (each service gets its own database on that server)`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ShopConfigError(`SHOP_PG_URL must start with postgres://, got ${redactUrl(raw)}`);
  }
  if (url.pathname !== '' && url.pathname !== '/') {
    throw new ShopConfigError(
      `SHOP_PG_URL=${redactUrl(raw)} names a database (${url.pathname.slice(1)}): give the server only, e.g. postgres://postgres@127.0.0.1:5432; each service gets its own database`,
    );
  }
  return raw;
}

/** Reads and checks the shop's settings from `env`. Throws {@link ShopConfigError} naming the variable to fix. */
export function readShopConfig(env: NodeJS.ProcessEnv = process.env): ShopConfig {
  const dataDir = resolve(env.SHOP_DATA_DIR?.trim() || DEFAULT_DATA_DIR);
  const transportUrl = env.MAILROOM_TRANSPORT?.trim() || resolve(dataDir, 'broker.db');
  const namespace = env.SHOP_NAMESPACE?.trim() || undefined;
  if (namespace !== undefined && !/^[a-z][a-z0-9_-]{0,23}$/.test(namespace)) {
    throw new ShopConfigError(
      `SHOP_NAMESPACE=${JSON.stringify(namespace)} is not valid: use 1-24 lower-case letters, digits, '_' or '-', starting with a letter`,
    );
  }
  const pgDatabasePrefix = env.SHOP_PG_DATABASE_PREFIX?.trim() || 'shop_';
  if (!/^[a-z_][a-z0-9_]{0,39}$/.test(pgDatabasePrefix)) {
    throw new ShopConfigError(`SHOP_PG_DATABASE_PREFIX=${JSON.stringify(pgDatabasePrefix)} is not valid: use lower-case letters, digits and '_' (at most 40)`);
  }
  return {
    dataDir,
    transportUrl,
    transportKind: transportKindOf(transportUrl),
    namespace,
    pgUrl: pgServerUrl(env.SHOP_PG_URL),
    pgDatabasePrefix,
    port: integer(env, 'PORT', 3000, 0, 65535),
    host: env.HOST?.trim() || '127.0.0.1',
    immediateRetries: integer(env, 'SHOP_IMMEDIATE_RETRIES', 2, 0, 10),
    delayedRetries: integer(env, 'SHOP_DELAYED_RETRIES', 2, 0, 10),
    retryDelayMs: integer(env, 'SHOP_RETRY_DELAY_MS', 1000, 10, 600_000),
    orderTimeoutMs: integer(env, 'SHOP_ORDER_TIMEOUT_MS', 30 * 60_000, 1000),
    paymentTimeoutMs: integer(env, 'SHOP_PAYMENT_TIMEOUT_MS', 30_000, 100, 24 * 60 * 60_000),
    breakerHalfOpenMs: integer(env, 'SHOP_BREAKER_HALF_OPEN_MS', 5000, 100, 600_000),
    restartDelayMs: integer(env, 'SHOP_RESTART_DELAY_MS', 500, 10, 60_000),
    poisonFault: flag(env, 'SHOP_POISON_FAULT', true),
    maxStreamsPerClient: integer(env, 'SHOP_MAX_STREAMS_PER_CLIENT', 16, 1, 10_000),
    opsPort: integer(env, 'SHOP_OPS_PORT', 0, 0, 65535),
    opsHost: host(env, 'SHOP_OPS_HOST', '127.0.0.1'),
  };
}

/** The transport URL for logs and the UI: its password replaced by `***`. */
export function describeTransport(config: ShopConfig): string {
  return config.transportKind === 'sqlite' ? `SQLite broker file ${config.transportUrl}` : redactUrl(config.transportUrl);
}
