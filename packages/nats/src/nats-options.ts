import { ErrorCodes, type Logger, MailroomError } from '@mailroom/core';
import { checkNumberOption } from '@mailroom/core/internal';
import type { ConnectionOptions, NatsConnection } from '@nats-io/nats-core';
import { isValidPrefix } from './nats-names.js';

/**
 * Settings of a JetStream stream the transport creates. They apply when the stream is created;
 * an existing stream keeps its settings (change them with `nats stream edit`).
 */
export interface NatsStreamSettings {
  /** `file` (default) survives a server restart; `memory` loses every stored message when the server stops. */
  storage?: 'file' | 'memory';
  /** Copies kept in a cluster (1, 3 or 5). Default 1: a single server; use 3 in a cluster to survive losing a node. */
  replicas?: number;
  /** Oldest message kept, in ms; 0 (default) keeps messages until they are consumed. A limit drops waiting messages. */
  maxAgeMs?: number;
  /** Most bytes stored; -1 (default) is unlimited. When full, publishes are refused (never old messages dropped). */
  maxBytes?: number;
  /** Most messages stored; -1 (default) is unlimited. When full, publishes are refused. */
  maxMessages?: number;
  /** Window in ms within which a message id (`Nats-Msg-Id`) is stored only once. Default 120 000 (2 minutes). */
  duplicateWindowMs?: number;
}

/** Options of `createNatsTransport`. */
export interface NatsTransportOptions {
  /** Servers to connect to (`nats://host:4222`, `host:4222`); default `127.0.0.1:4222`. Ignored with `connection`. */
  servers?: string | string[];
  /** Your own connection: the transport uses it and never closes it. */
  connection?: NatsConnection;
  /** Passed to `connect()` of `@nats-io/transport-node` (user, pass, token, tls, name...). Ignored with `connection`. */
  connectOptions?: Omit<ConnectionOptions, 'servers'>;
  /**
   * For a cluster: copies of every stream and of the retry-state bucket (1, 3 or 5; each on another
   * server). 3 in a 3-node cluster survives losing any one server with nothing acknowledged lost;
   * consumers take their stream's replica count. Default 1: a single server. `streams.replicas` and
   * `deadLetterStream.replicas` win over it when given. Applies when a stream is created.
   */
  replicas?: number;
  /** Prefix of every subject, stream and bucket name: lower-case letter first, then `[a-z0-9_-]`, at most 32. Default `mailroom`. */
  prefix?: string;
  /** Settings of the events and commands streams. */
  streams?: NatsStreamSettings;
  /** Settings of the dead-letter stream (default: kept until purged). */
  deadLetterStream?: NatsStreamSettings;
  /**
   * How long the server waits for a delivery to be settled before giving it to another consumer
   * (JetStream AckWait), in ms. The transport extends it with `working()` while a delivery is
   * unsettled, so it bounds how long messages of a crashed process wait. Default 30 000.
   */
  ackWaitMs?: number;
  /** How long `publish` waits for the server (including during an outage) before failing. Default 15 000. */
  publishTimeoutMs?: number;
  /** How long the first connection may take before `createNatsTransport` fails. Default 10 000. */
  connectTimeoutMs?: number;
  /** How long the first failure time of a message waiting for a retry is kept. Default 7 days. */
  retryStateTtlMs?: number;
  /** A pino-compatible logger; default pino at `MAILROOM_LOG_LEVEL`. */
  logger?: Logger;
}

/** Stream settings with every default filled in. */
export type ResolvedStreamSettings = Required<NatsStreamSettings>;

/** Options with every default filled in and checked. */
export interface ResolvedNatsOptions {
  readonly prefix: string;
  readonly streams: ResolvedStreamSettings;
  readonly deadLetterStream: ResolvedStreamSettings;
  readonly ackWaitMs: number;
  readonly publishTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly retryStateTtlMs: number;
}

const DEFAULT_STREAM: ResolvedStreamSettings = {
  storage: 'file',
  replicas: 1,
  maxAgeMs: 0,
  maxBytes: -1,
  maxMessages: -1,
  duplicateWindowMs: 120_000,
};

function configError(message: string): MailroomError {
  return new MailroomError(ErrorCodes.TRANSPORT_CONFIG, `NATS transport: ${message}`);
}

function wholeNumber(value: unknown, name: string, min: number): number {
  return checkNumberOption(value, name, { min, integer: true }, configError);
}

function limit(value: unknown, name: string): number {
  if (value === -1) return -1;
  return wholeNumber(value, name, 1);
}

function streamSettings(input: NatsStreamSettings | undefined, name: string, replicas: number): ResolvedStreamSettings {
  if (input !== undefined && (typeof input !== 'object' || input === null)) throw configError(`${name} must be an object`);
  const merged = { ...DEFAULT_STREAM, replicas, ...Object.fromEntries(Object.entries(input ?? {}).filter(([, v]) => v !== undefined)) };
  if (merged.storage !== 'file' && merged.storage !== 'memory')
    throw configError(`${name}.storage must be 'file' or 'memory', got ${JSON.stringify(merged.storage)}`);
  if (![1, 3, 5].includes(merged.replicas)) throw configError(`${name}.replicas must be 1, 3 or 5, got ${JSON.stringify(merged.replicas)}`);
  return {
    storage: merged.storage,
    replicas: merged.replicas,
    maxAgeMs: wholeNumber(merged.maxAgeMs, `${name}.maxAgeMs`, 0),
    maxBytes: limit(merged.maxBytes, `${name}.maxBytes`),
    maxMessages: limit(merged.maxMessages, `${name}.maxMessages`),
    duplicateWindowMs: wholeNumber(merged.duplicateWindowMs, `${name}.duplicateWindowMs`, 100),
  };
}

/**
 * Fills in defaults and checks every option. Throws `MAILROOM_ERR_TRANSPORT_CONFIG` naming the
 * option and the allowed values.
 */
export function resolveNatsOptions(options: NatsTransportOptions): ResolvedNatsOptions {
  if (typeof options !== 'object' || options === null) throw configError('options must be an object');
  const prefix = options.prefix ?? 'mailroom';
  if (!isValidPrefix(prefix)) {
    throw configError(`prefix must start with a lower-case letter, then letters, digits, '_' or '-' (at most 32), got ${JSON.stringify(prefix)}`);
  }
  const replicas = options.replicas ?? DEFAULT_STREAM.replicas;
  if (![1, 3, 5].includes(replicas)) throw configError(`replicas must be 1, 3 or 5, got ${JSON.stringify(options.replicas)}`);
  const streams = streamSettings(options.streams, 'streams', replicas);
  const ackWaitMs = wholeNumber(options.ackWaitMs ?? 30_000, 'ackWaitMs', 500);
  return {
    prefix,
    streams,
    deadLetterStream: streamSettings(options.deadLetterStream, 'deadLetterStream', replicas),
    ackWaitMs,
    publishTimeoutMs: wholeNumber(options.publishTimeoutMs ?? 15_000, 'publishTimeoutMs', 100),
    connectTimeoutMs: wholeNumber(options.connectTimeoutMs ?? 10_000, 'connectTimeoutMs', 100),
    retryStateTtlMs: wholeNumber(options.retryStateTtlMs ?? 7 * 24 * 3_600_000, 'retryStateTtlMs', 1000),
  };
}
