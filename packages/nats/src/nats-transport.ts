import {
  createDefaultLogger,
  type DeliveryHandler,
  ErrorCodes,
  errorMessage,
  HeaderNames,
  type Headers,
  isMailroomError,
  MailroomError,
  type OutgoingMessage,
  redactUrl,
  type SubscribeOptions,
  type Transport,
  type TransportCapabilities,
} from '@mailroom/core';
import { scheduledDelayMs } from '@mailroom/core/internal';
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager, PubHeaders } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { MsgHdrs, NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { DeadLetterObjects } from './dead-letter-objects.js';
import { NatsErrorCodes } from './errors.js';
import { DELIVER_AT_HEADER, encodeHeaders } from './header-codec.js';
import { createNatsDeadLetters } from './nats-dead-letters.js';
import type { TrackedMessage } from './nats-delivery.js';
import { createNatsNames, type NatsNames } from './nats-names.js';
import { type NatsTransportOptions, type ResolvedNatsOptions, resolveNatsOptions } from './nats-options.js';
import { listQueues } from './nats-queues.js';
import { NatsSubscription } from './nats-subscription.js';
import { ensureTopology } from './nats-topology.js';
import { publishDurably } from './publish-durably.js';
import { ResendSignal } from './resend-signal.js';
import { RetryStateStore } from './retry-state.js';
import { type DeadLetterFailure, writeDeadLetter } from './write-dead-letter.js';

/** A transport over NATS JetStream, with the names it uses and its connection. */
export interface NatsTransport extends Transport {
  readonly name: 'nats';
  /** Every stream, subject and consumer name this transport uses. */
  readonly names: NatsNames;
  /** The connection in use (yours when you passed `connection`). */
  readonly connection: NatsConnection;
}

/**
 * The precision of delayed retries: JetStream redelivers a message nak'd with a delay from a
 * server timer, never early. Measured 3-4 ms late on a quiet server and up to 71 ms late while a
 * 20k-message run and a server restart shared the machine (test/delivery-suite.ts prints it);
 * declared with headroom.
 */
export const NATS_DELAY_PRECISION_MS = 100;

const CLOSE_FLUSH_MS = 2000;

/** True for the client's errors that mean the server refused who we are (by name: they survive duplicate copies of the client). */
function isAuthFailure(error: unknown): boolean {
  const name = (error as { name?: unknown })?.name;
  return name === 'AuthorizationError' || name === 'UserAuthenticationExpiredError';
}

async function openConnection(options: NatsTransportOptions, resolved: ResolvedNatsOptions): Promise<NatsConnection> {
  const servers = options.servers ?? '127.0.0.1:4222';
  try {
    return await connect({
      // Keep trying forever after the first connection: an outage must not close the transport.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
      // The client otherwise builds two errors with stacks up front for every request (each
      // publish), in case it fails; a failed request still gets an error, with a shorter stack.
      noAsyncTraces: true,
      ...options.connectOptions,
      servers,
      timeout: resolved.connectTimeoutMs,
    });
  } catch (error) {
    const where = [servers].flat().map(redactUrl).join(', ');
    if (isAuthFailure(error)) {
      throw new MailroomError(
        NatsErrorCodes.NATS_AUTH,
        `NATS at ${where} refused the credentials (${errorMessage(error)}): fix the user and password or the token in the URL (nats://user:password@host:4222), or the credentials in connectOptions`,
        { cause: error },
      );
    }
    throw new MailroomError(
      ErrorCodes.TRANSPORT_UNAVAILABLE,
      `Could not connect to NATS at ${where}: ${errorMessage(error)}. Is nats-server running with JetStream (-js)?`,
      {
        cause: error,
      },
    );
  }
}

/**
 * Creates a transport over NATS JetStream. Resolves once connected and the streams exist (they
 * are created when missing). Guarantees: `publish` resolves only once JetStream stored the message
 * (on disk with the default file storage) and stores it once per id within the dedup window;
 * events reach every subscribed endpoint, commands wait for their endpoint even before it ever
 * started; a delivery is removed only when acknowledged; unsettled deliveries go back when a
 * subscription closes, and to another process after AckWait when one dies; dead letters are kept
 * with their failure until replayed or purged. Reconnects forever after an outage.
 * Throws `MAILROOM_ERR_TRANSPORT_CONFIG` for bad options, `MAILROOM_ERR_TRANSPORT_UNAVAILABLE`
 * when the server cannot be reached.
 */
export async function createNatsTransport(options: NatsTransportOptions = {}): Promise<NatsTransport> {
  const resolved = resolveNatsOptions(options);
  if (options.connection !== undefined && (typeof options.connection?.subscribe !== 'function' || typeof options.connection?.request !== 'function')) {
    throw new MailroomError(ErrorCodes.TRANSPORT_CONFIG, 'NATS transport: connection must be a NatsConnection from @nats-io/transport-node connect()');
  }
  const log = (options.logger ?? createDefaultLogger()).child({ transport: 'nats' });
  const ownsConnection = options.connection === undefined;
  const nc = options.connection ?? (await openConnection(options, resolved));
  const names = createNatsNames(resolved.prefix);
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  try {
    js = jetstream(nc);
    jsm = await jetstreamManager(nc);
  } catch (error) {
    if (ownsConnection) await nc.close().catch(() => undefined);
    throw new MailroomError(
      ErrorCodes.TRANSPORT_UNAVAILABLE,
      `JetStream is not available on this NATS server (start nats-server with -js): ${errorMessage(error)}`,
      {
        cause: error,
      },
    );
  }

  let closed = false;
  let connected = true;
  let topology: Promise<KV> | undefined;
  // True once the current `topology` promise resolved: a publish then skips waiting on it (a promise and turns per message).
  let topologyReady = false;
  const ready = (): Promise<KV> => {
    if (topology !== undefined) return topology;
    const ensured: Promise<KV> = ensureTopology(js, jsm, names, resolved, log).then(
      (kv) => {
        if (topology === ensured) topologyReady = true;
        return kv;
      },
      (error: unknown) => {
        if (topology === ensured) topology = undefined;
        throw error;
      },
    );
    topology = ensured;
    return ensured;
  };
  const recreateTopology = async () => {
    topology = undefined;
    topologyReady = false;
    await ready();
  };
  try {
    await ready();
  } catch (error) {
    if (ownsConnection) await nc.close().catch(() => undefined);
    throw error;
  }

  // Fired at every reconnect and new stream leader: publishes waiting for an answer send again at once.
  const resend = new ResendSignal();
  const resendNow = () => resend.resend();
  const ownStreams = new Set([names.eventsStream, names.commandsStream, names.deadLettersStream]);
  const leaderElected = nc.subscribe('$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.*', {
    callback: (error, msg) => {
      if (error) log.debug({ error: errorMessage(error) }, 'cannot follow stream leader elections; unanswered publishes wait for their attempt timeout');
      else if (ownStreams.has(msg.subject.slice(msg.subject.lastIndexOf('.') + 1))) resendNow();
    },
  });
  const statuses = nc.status();
  void (async () => {
    for await (const status of statuses) {
      if (status.type === 'disconnect') {
        connected = false;
        log.warn({ event: 'connection-lost', server: status.server }, 'disconnected from NATS; reconnecting');
      } else if (status.type === 'reconnect') {
        connected = true;
        log.info({ event: 'reconnected', server: status.server }, 'reconnected to NATS');
        resendNow();
      }
    }
  })().catch(() => undefined);

  const publishContext = {
    nc,
    js,
    timeoutMs: resolved.publishTimeoutMs,
    closed: () => closed,
    connected: () => connected && !nc.isClosed(),
    recreateTopology,
    resend,
  };
  const publishAcked = (subject: string, body: Uint8Array, headers: MsgHdrs, msgID: string | undefined) =>
    publishDurably(publishContext, subject, body, { headers, msgID });
  const publishRaw = async (subject: string, body: Uint8Array, headers: MsgHdrs, msgID: string | undefined) => {
    await publishAcked(subject, body, headers, msgID);
  };
  const retryState = new RetryStateStore(ready, log);
  const subscriptions = new Set<NatsSubscription>();
  const assertOpen = () => {
    if (closed) throw new MailroomError(ErrorCodes.TRANSPORT_CLOSED, 'The NATS transport is closed');
  };
  const deadLetterObjects = new DeadLetterObjects(js, names.deadLetterObjectsBucket, resolved.deadLetterStream, log);
  const storeDeadLetter = async (tracked: TrackedMessage, headers: Headers, failure: DeadLetterFailure) => {
    const { msg } = tracked;
    await writeDeadLetter(
      { publish: publishRaw, objects: deadLetterObjects },
      {
        subject: names.deadLetterSubject(tracked.endpoint, tracked.type),
        msgID: `dlq:${msg.info.stream}:${msg.info.consumer}:${msg.seq}`,
        headers,
        body: msg.data,
        failure,
      },
    );
  };
  const capabilities: TransportCapabilities = Object.freeze({
    durable: resolved.streams.storage === 'file',
    crossProcess: true,
    delayedRetry: true,
    deadLetterQueue: true,
    delayPrecisionMs: NATS_DELAY_PRECISION_MS,
    // A hold count and the cancellation record live in the retry-state bucket, whose entries expire after this.
    maxScheduleDelayMs: resolved.retryStateTtlMs,
  });
  let closing: Promise<void> | undefined;

  return {
    name: 'nats',
    names,
    connection: nc,
    capabilities,
    async publish(message: OutgoingMessage) {
      assertOpen();
      const { route } = message;
      const subject = route.kind === 'event' ? names.eventSubject(route.type) : names.commandSubject(route.destination, route.type);
      const id = message.headers[HeaderNames.id];
      // The envelope id deduplicates; commands of every endpoint share one stream, so theirs names the destination too.
      const msgID = id === undefined ? undefined : route.kind === 'event' ? id : `${id}@${route.destination}`;
      // Recreating the streams (started by another publish that found none answering, as happens while a
      // cluster elects leaders) can time out: this publish then finds out for itself, within its own deadline.
      if (!topologyReady) {
        await ready().catch((error: unknown) => {
          if (isMailroomError(error)) throw error;
        });
      }
      const delayMs = scheduledDelayMs(message);
      if (delayMs <= 0) {
        const headers = encodeHeaders(message.headers, msgID === undefined ? undefined : { [PubHeaders.MsgIdHdr]: msgID });
        await publishDurably(publishContext, subject, message.body, { headers, msgID });
        return;
      }
      // Stored now, held by each consumer until it is due (see NatsSubscription's hold).
      const deliverAt = Date.now() + delayMs;
      const ack = await publishAcked(subject, message.body, encodeHeaders(message.headers, { [DELIVER_AT_HEADER]: String(deliverAt) }), msgID);
      if (typeof id === 'string' && !ack.duplicate) await retryState.recordScheduled(id, ack.stream, ack.seq, deliverAt);
    },

    async cancelScheduled(messageId: string) {
      assertOpen();
      await ready();
      const where = await retryState.scheduled(messageId);
      if (!where || where.deliverAt <= Date.now()) return false;
      retryState.forgetScheduled(messageId);
      try {
        return await jsm.streams.deleteMessage(where.stream, where.seq, false);
      } catch (error) {
        // Gone already: acknowledged by every consumer (delivered), or removed before.
        if (/no message found|not found/i.test(errorMessage(error))) return false;
        throw error;
      }
    },
    async subscribe(subscribeOptions: SubscribeOptions, handler: DeliveryHandler) {
      assertOpen();
      if (!Number.isSafeInteger(subscribeOptions.concurrency) || subscribeOptions.concurrency < 1) {
        throw new MailroomError(
          ErrorCodes.TRANSPORT_CONFIG,
          `NATS transport: concurrency must be a whole number >= 1, got ${String(subscribeOptions.concurrency)}`,
        );
      }
      await ready();
      const subscription = await NatsSubscription.start(
        {
          nc,
          js,
          jsm,
          names,
          ackWaitMs: resolved.ackWaitMs,
          retryState,
          log: log.child({ endpoint: subscribeOptions.endpoint }),
          connected: publishContext.connected,
          recreateTopology,
          storeDeadLetter,
        },
        subscribeOptions,
        handler,
        (done) => subscriptions.delete(done),
      );
      if (closed) {
        await subscription.close();
        assertOpen();
      }
      subscriptions.add(subscription);
      return subscription;
    },
    deadLetters: createNatsDeadLetters({
      js,
      jsm,
      names,
      objects: deadLetterObjects,
      ready: async () => {
        assertOpen();
        await ready();
      },
      publish: (subject, body, headers, msgID) => publishRaw(subject, body, headers, msgID),
    }),
    async queues() {
      assertOpen();
      return listQueues({
        nc,
        jsm,
        names,
        ready: async () => {
          await ready();
        },
      });
    },
    health() {
      if (closed) return { connected: false, detail: 'closed' };
      return publishContext.connected() ? { connected: true, detail: 'connected' } : { connected: false, detail: 'reconnecting' };
    },
    close() {
      if (closing) return closing;
      closed = true;
      closing = (async () => {
        await Promise.all([...subscriptions].map((subscription) => subscription.close()));
        (statuses as { stop?: () => void }).stop?.();
        leaderElected.unsubscribe();
        // Send the acks and the naks of given-back messages before letting go (the server has read
        // them once it answers the flush's ping); never wait long for a lost server.
        const within = (promise: Promise<unknown>) =>
          Promise.race([promise.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, CLOSE_FLUSH_MS).unref())]);
        await within(nc.flush());
        if (ownsConnection) await within(nc.close());
      })();
      return closing;
    },
  };
}
