import { createEnvelope, envelopeToHeaders } from '@mailroom/core';
import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamClient,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { BenchMessage } from '../bench-message.js';
import type { MessagingContender } from '../messaging-contender.js';
import { deleteStreams, NATS_SERVERS } from './nats-server.js';

/** Settings of the raw JetStream baseline. */
export interface RawNatsOptions {
  readonly name: string;
  /** Stream name (upper case) and subject prefix of this run. */
  readonly stream: string;
  readonly subject: string;
  /** Most messages a pull asks for (`max_messages`), as Mailroom's endpoint concurrency. */
  readonly prefetch: number;
  /**
   * Do what Mailroom does on top of the plain client: a `Nats-Msg-Id` per message (dedup) and the
   * CloudEvents headers. Tells the cost of those guarantees from the cost of Mailroom's code.
   */
  readonly sameGuarantees?: boolean;
}

/**
 * The raw baseline as a competent user of the official client writes it: a file-storage stream
 * with interest retention (as Mailroom's events stream), a durable pull consumer with explicit
 * acks, `js.publish` awaited for its PubAck, `consumer.consume({ max_messages })`, JSON parsed,
 * `msg.ack()` after handling.
 */
export function rawNats(options: RawNatsOptions): MessagingContender {
  let nc: NatsConnection | undefined;
  let js: JetStreamClient | undefined;
  let messages: ConsumerMessages | undefined;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  return {
    name: options.name,
    async start(deliver) {
      nc = await connect({ servers: NATS_SERVERS });
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: options.stream, subjects: [`${options.subject}.>`], retention: RetentionPolicy.Interest, storage: StorageType.File });
      await jsm.consumers.add(options.stream, {
        durable_name: 'bench',
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.New,
        filter_subject: `${options.subject}.>`,
      });
      js = jetstream(nc);
      const consumer = await js.consumers.get(options.stream, 'bench');
      const stream = await consumer.consume({ max_messages: options.prefetch });
      messages = stream;
      void (async () => {
        for await (const msg of stream) {
          deliver(JSON.parse(decoder.decode(msg.data)) as BenchMessage);
          msg.ack();
        }
      })();
    },
    async publish(message) {
      const data = encoder.encode(JSON.stringify(message));
      if (!options.sameGuarantees) {
        await (js as JetStreamClient).publish(`${options.subject}.sent`, data);
        return;
      }
      const envelope = createEnvelope({ type: 'bench.MessageSent', dataversion: 1, source: 'urn:bench:raw' });
      const h = headers();
      for (const [name, value] of Object.entries(envelopeToHeaders(envelope))) h.set(name, value);
      await (js as JetStreamClient).publish(`${options.subject}.sent`, data, { msgID: envelope.id, headers: h });
    },
    async stop() {
      if (!nc) return;
      messages?.stop();
      await deleteStreams(await jetstreamManager(nc), [options.stream]);
      await nc.drain().catch(() => undefined);
      nc = undefined;
    },
  };
}
