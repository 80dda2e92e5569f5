import { errorMessage, type Logger, MailroomError } from '@mailroom/core';
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import { nanos } from '@nats-io/nats-core';
import { NatsErrorCodes } from './errors.js';
import type { NatsNames } from './nats-names.js';
import type { ResolvedNatsOptions, ResolvedStreamSettings } from './nats-options.js';

/** True when a JetStream API error says the stream or consumer does not exist. */
export function isNotFound(error: unknown): boolean {
  if (error instanceof JetStreamApiError) return error.code === JetStreamApiCodes.StreamNotFound || error.code === JetStreamApiCodes.ConsumerNotFound;
  return /(?:stream|consumer) not found/i.test(errorMessage(error));
}

function streamConfig(
  name: string,
  subject: string,
  retention: RetentionPolicy,
  settings: ResolvedStreamSettings,
  description: string,
): Partial<StreamConfig> & { name: string } {
  return {
    name,
    subjects: [subject],
    description,
    retention,
    storage: settings.storage === 'file' ? StorageType.File : StorageType.Memory,
    num_replicas: settings.replicas,
    max_age: nanos(settings.maxAgeMs),
    max_bytes: settings.maxBytes,
    max_msgs: settings.maxMessages,
    // Refuse publishes when full rather than silently dropping stored, unconsumed messages.
    discard: DiscardPolicy.New,
    duplicate_window: nanos(settings.duplicateWindowMs),
  };
}

async function ensureStream(jsm: JetStreamManager, wanted: Partial<StreamConfig> & { name: string }, log: Logger): Promise<void> {
  const { name } = wanted;
  let existing: StreamConfig | undefined;
  try {
    existing = (await jsm.streams.info(name)).config;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  if (!existing) {
    try {
      await jsm.streams.add(wanted);
      log.info({ stream: name, subjects: wanted.subjects, retention: wanted.retention }, 'created JetStream stream');
      return;
    } catch (error) {
      // Another process created it at the same moment: check what it created.
      existing = (await jsm.streams.info(name).catch(() => Promise.reject(error))).config;
    }
  }
  const subject = wanted.subjects?.[0] as string;
  if (existing.retention !== wanted.retention || !existing.subjects?.includes(subject)) {
    throw new MailroomError(
      NatsErrorCodes.NATS_STREAM_CONFLICT,
      `JetStream stream ${name} exists with retention ${existing.retention} and subjects ${JSON.stringify(existing.subjects)}; ` +
        `Mailroom needs retention ${wanted.retention} and subject ${subject}. Delete the stream (nats stream rm ${name}) or choose another prefix.`,
    );
  }
  if (existing.max_age !== wanted.max_age || existing.max_bytes !== wanted.max_bytes || existing.num_replicas !== wanted.num_replicas) {
    log.debug({ stream: name }, 'stream exists with other limits; its settings are left as they are');
  }
}

/**
 * Creates the streams and the retry-state bucket when missing (idempotent, safe to run from many
 * processes at once) and checks that existing streams fit. Resolves with the retry-state bucket.
 * Throws `MAILROOM_ERR_NATS_STREAM_CONFLICT` when a stream of the same name has other subjects or retention.
 */
export async function ensureTopology(js: JetStreamClient, jsm: JetStreamManager, names: NatsNames, options: ResolvedNatsOptions, log: Logger): Promise<KV> {
  const p = names.prefix;
  await Promise.all([
    ensureStream(
      jsm,
      streamConfig(
        names.eventsStream,
        `${p}.event.>`,
        RetentionPolicy.Interest,
        options.streams,
        'Mailroom events: kept until every subscribed endpoint acknowledged them',
      ),
      log,
    ),
    ensureStream(
      jsm,
      streamConfig(
        names.commandsStream,
        `${p}.command.>`,
        RetentionPolicy.Workqueue,
        options.streams,
        'Mailroom commands and replays, by destination endpoint',
      ),
      log,
    ),
    ensureStream(
      jsm,
      streamConfig(names.deadLettersStream, `${p}.dlq.>`, RetentionPolicy.Limits, options.deadLetterStream, 'Mailroom dead letters, by endpoint and type'),
      log,
    ),
  ]);
  return new Kvm(js).create(names.retryStateBucket, {
    history: 1,
    ttl: options.retryStateTtlMs,
    storage: options.streams.storage === 'file' ? StorageType.File : StorageType.Memory,
    replicas: options.streams.replicas,
  });
}
