import { ErrorCodes, isMailroomError } from '@mailroom/core';
import { HttpErrorCodes } from '@mailroom/http';
import { NatsErrorCodes } from '@mailroom/nats';
import { PostgresErrorCodes } from '@mailroom/postgres';
import { RabbitMqErrorCodes } from '@mailroom/rabbitmq';
import { ShopConfigError } from '../shop-config.js';

/** The exit code of a service process that cannot start until a setting changes (EX_CONFIG of sysexits.h): the supervisor does not restart it. */
export const EXIT_CANNOT_START = 78;

/** The message a service process sends its supervisor before it exits with {@link EXIT_CANNOT_START}. */
export interface CannotStartMessage {
  readonly type: 'cannot-start';
  /** What failed and what to fix; never a password (transports redact their URLs). */
  readonly message: string;
}

/**
 * Errors that restarting cannot cure: wrong credentials or permissions (RabbitMQ, NATS,
 * PostgreSQL), a database that does not exist, a bad transport URL or option, a missing adapter,
 * a TLS handshake that fails, a database schema newer than the code, and the shop's own invalid
 * settings. A broker that is down or slow is transient and is not listed.
 */
const PERMANENT: ReadonlySet<string> = new Set([
  ErrorCodes.TRANSPORT_URL,
  ErrorCodes.TRANSPORT_CONFIG,
  ErrorCodes.TRANSPORT_ADAPTER_MISSING,
  ErrorCodes.PERSISTENCE_CONFIG,
  HttpErrorCodes.HTTP_CONFIG,
  RabbitMqErrorCodes.ACCESS_REFUSED,
  RabbitMqErrorCodes.TLS,
  RabbitMqErrorCodes.TOPOLOGY_MISMATCH,
  NatsErrorCodes.NATS_AUTH,
  NatsErrorCodes.NATS_STREAM_CONFLICT,
  PostgresErrorCodes.POSTGRES_ACCESS_REFUSED,
  PostgresErrorCodes.POSTGRES_DATABASE_MISSING,
]);

/** The one-line message of a start failure that restarting cannot cure, or undefined when a restart may help. */
export function permanentStartupFailure(error: unknown): string | undefined {
  if (error instanceof ShopConfigError) return error.message;
  if (isMailroomError(error) && PERMANENT.has(error.code)) return `${error.message} (${error.code})`;
  return undefined;
}
